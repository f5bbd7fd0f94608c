import requests
import yaml


def handler(event, context):
    return {"status": requests.codes.ok, "yaml": yaml.__version__}
