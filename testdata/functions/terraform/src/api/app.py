import yaml


def handler(event, context):
    return yaml.__version__
