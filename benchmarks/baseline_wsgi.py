"""The floor for ``compare.py``: a bare WSGI callable on granian that answers the track
request's success body without reading, validating, storing or journaling anything."""

BODY = b'{"success":200,"message":"Events added","result":{"stored":10,"duplicates":0}}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    environ["wsgi.input"].read()
    start_response("200 OK", HEADERS)
    return [BODY]
