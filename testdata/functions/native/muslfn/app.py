import markupsafe

def handler(e, c):
    return str(markupsafe.escape("<x>"))
