import ctypes

lib = ctypes.CDLL("./libfast.so")


def handler(event, context):
    return lib.fast_start()
