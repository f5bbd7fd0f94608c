import jinja2


def render(event, context):
    return jinja2.__version__
