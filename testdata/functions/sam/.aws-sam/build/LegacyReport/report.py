import jinja2


def handler(event, context):
    return jinja2.Template("{{ x }}").render(x=1)
