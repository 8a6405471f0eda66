"""Stubs on the Flask routes (unknown paths, pages): the ``before_request``
step that answers with a matching stub, the way faults are answered.

The stubs of the SDK API, 1Flow's HTTP API and the Segment ingest are answered on the hot path (:mod:`.hotpath`)
by the same :class:`~.stubs.StubSet`.
"""

from __future__ import annotations

from typing import Any

from flask import Request, Response

from .hotpath import MAX_REQUEST_BYTES
from .runtime import Runtime
from .stubs import DROPPED_FRAGMENT, Scope, Stub

KEY_HEADER = "one_flow_key"


def _never() -> bool:
    return False


def flask_scope(runtime: Runtime, req: Request) -> Scope:
    """The request's scope: the APIs that registered a scope, else the path as faults see it."""
    for scope in runtime.stubs.scopes:
        answer = scope(runtime, req)
        if answer is not None:
            return answer
    from .core import split_api_path  # the core imports this module

    region, api_path = split_api_path(req.path)
    return Scope(region, api_path, req.headers.get(KEY_HEADER) or None, None, _never)


def stub_answer(runtime: Runtime, req: Request, ctx: Any, dropped: Any) -> Response | None:
    """The response of the stub that answers this request (noted on ``ctx`` for the journal),
    or None to let the route answer. ``dropped`` makes a body that breaks off."""
    stubs = runtime.stubs
    scope = flask_scope(runtime, req)
    headers = req.environ.get("mock_1flow.raw_headers") or tuple(req.headers.items())
    query = req.query_string.decode("latin-1")

    def body() -> bytes | None:
        return req.get_data(cache=True) if (req.content_length or 0) <= MAX_REQUEST_BYTES else None

    stub: Stub | None = stubs.pick(False, req.method, scope.api_path, req.path, scope.project, scope.region,
                                   headers, query, body)
    if stub is None and stubs.after and scope.gate():
        stub = stubs.pick(True, req.method, scope.api_path, req.path, scope.project, scope.region, headers, query, body)
    if stub is None:
        return None
    ctx.stub, ctx.region, ctx.project = stub.id, scope.region, scope.project
    ctx.off_spec = stub.off_spec(scope.operation_id, req.method, req.path)
    if stub.drop:
        ctx.dropped = True
        return Response(dropped(DROPPED_FRAGMENT), status=200, headers={"Content-Length": "1024"}, mimetype="application/json")
    ctx.response_raw = stub.body
    return Response(stub.body, status=stub.status, headers=stub.headers)
