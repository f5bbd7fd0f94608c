import six

def handler(e, c):
    return six.PY3
