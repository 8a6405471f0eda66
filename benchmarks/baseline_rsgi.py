"""The floor of the interface the mock serves on: a bare RSGI app on granian (uvloop, as
``mock-1flow serve`` runs) that reads the body and answers the track request's success
body, without validating, storing or journaling anything. Beside ``baseline_wsgi.py`` it
shows what the interface itself costs per request (see compare.py's docstring)."""

BODY = b'{"success":200,"message":"Events added","result":{"stored":10,"duplicates":0}}'
HEADERS = [("content-type", "application/json")]


class App:
    async def __rsgi__(self, scope, protocol):
        await protocol()
        protocol.response_bytes(200, HEADERS, BODY)


app = App()
