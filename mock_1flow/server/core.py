"""The Flask side of the mock's request lifecycle: fault injection before, journaling
after, one error shape, for every route that is not on the hot path (:mod:`.hotpath`:
the SDK API, 1Flow's HTTP API, the Segment ingest), such as the admin API and unknown paths.

Mounted by the composition root (``mock_1flow.app``); the Segment ingest and the admin API
plug into the same hooks without this package knowing them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from . import cors
from .answers import Exchange, journal_violations
from .errors import ApiError
from .faults import Fault
from .hotpath import KEY_HEADER, MAX_REQUEST_BYTES, HotPath, dropped_stream, error_code, fault_error, key_warning
from .routes.common import dumps, json_response
from .runtime import Runtime, current_runtime
from .spec import API_VERSION_PATH, spec_text
from .stub_hooks import stub_answer
from .wsgi import RAW_HEADERS, VIA

log = logging.getLogger("mock_1flow")

UNJOURNALED_PREFIXES = ("/__admin", "/openapi.yaml")


def init_core(app: Flask, runtime: Runtime) -> None:
    """The SDK API's hot path in front of the app, the spec, the journal and fault hooks,
    and the error handlers."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.wsgi_app = HotPath(runtime, app.wsgi_app)  # type: ignore[method-assign]
    app.add_url_rule("/openapi.yaml", "spec", _serve_spec)
    app.before_request(_before)
    app.after_request(_journal)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _serve_spec() -> Response:
    return Response(spec_text(), mimetype="application/yaml")


def split_api_path(path: str) -> tuple[str | None, str]:
    """``/us/api/2021-06-15/v3/track`` -> (``us``, ``/v3/track``); other paths unchanged."""
    head, sep, rest = path.partition(API_VERSION_PATH + "/")
    if not sep:
        return None, path
    region = head.strip("/") or None
    return region, "/" + rest


STARTED = "mock_1flow.started"
"""WSGI environ key: ``time.perf_counter()`` when the server in front took the request, so a
latency awaited there counts in the journal's ``duration_ms`` as on the SDK API."""
PICKED_FAULT = "mock_1flow.picked_fault"
"""WSGI environ key: the fault the server in front picked for this request, its latency
already awaited there (so that a sleeping request holds no thread of the Flask pool)."""


def pick_fault(runtime: Runtime, method: str, path: str, host: str, headers: Any) -> tuple[Fault, float] | None:
    """The fault (and its latency in seconds) that fires for a request to a Flask route, matched
    as on the SDK API: by region, path after the region, key. ``headers`` as Flask's
    ``request.headers`` (``.get`` folding dashes and underscores)."""
    if path.startswith(UNJOURNALED_PREFIXES) or not runtime.faults.faults or cors.is_preflight(method, headers.items()):
        return None  # a preflight is answered before faults and stubs (server/cors.py)
    region, api_path = split_api_path(path)
    return runtime.faults.pick(method, api_path, path, headers.get("one_flow_key"), region)


def _before() -> Response | None:
    req, ctx = request._get_current_object(), g._get_current_object()
    ctx.started = req.environ.get(STARTED) or time.perf_counter()
    path = req.path
    ctx.journaled = not path.startswith(UNJOURNALED_PREFIXES)
    ctx.region = ctx.project = ctx.request_json = ctx.response_body = ctx.fault = None
    ctx.stub = ctx.off_spec = ctx.response_raw = None
    ctx.dropped = False
    if not ctx.journaled:
        return None
    runtime = current_runtime()
    if runtime.answerer is not None:  # mock-1flow proxy, serve --replay: answers instead of the mock
        answered = _answered(runtime, req, ctx)
        if answered is not None:
            return answered
    if PICKED_FAULT in req.environ:  # picked (and its latency awaited) by the server in front
        fired = req.environ[PICKED_FAULT]
    elif not runtime.faults.faults:
        fired = None
    else:
        fired = pick_fault(runtime, req.method, path, req.host, req.headers)
        if fired is not None and fired[1]:
            time.sleep(fired[1])
    if fired is None or (fired[0].status is None and not fired[0].drop_connection):
        if fired is not None:
            ctx.fault = fired[0].id
        # a stub answers unless a fault did (a latency fault's wait is already over)
        if not (runtime.stubs.before or runtime.stubs.after) or cors.is_preflight(req.method, req.headers.items()):
            return None
        return stub_answer(runtime, req, ctx, dropped_stream)
    fault = fired[0]
    ctx.fault = fault.id
    if fault.drop_connection:
        ctx.dropped = True
        return Response(dropped_stream(b'{"success":'), status=200, headers={"Content-Length": "1024"}, mimetype="application/json")
    raise fault_error(fault)


def _answered(runtime: Runtime, req: Any, ctx: Any) -> Response | None:
    raw = req.get_data(cache=True) if (req.content_length or 0) <= MAX_REQUEST_BYTES else b""
    headers = req.environ.get(RAW_HEADERS) or tuple(req.headers.items())
    answer = runtime.answerer(Exchange(req.method, req.path, req.query_string.decode("latin-1"), tuple(headers), raw,
                                       req.host))
    if answer is None:
        return None
    ctx.response_raw, ctx.violations, ctx.note = answer.body, journal_violations(answer), answer.note
    return Response(answer.body, status=answer.status, headers=answer.headers)


def _journal(response: Response) -> Response:
    ctx = g._get_current_object()
    if not vars(ctx).get("journaled"):
        return response
    req = request._get_current_object()
    raw = req.get_data(cache=True) if (req.content_length or 0) <= MAX_REQUEST_BYTES else b""
    reply = vars(ctx).get("response_body")
    raw_reply = vars(ctx).get("response_raw")
    raw_headers = req.environ.get(RAW_HEADERS)  # the names as sent, when the server kept them
    headers = raw_headers if raw_headers is not None else tuple(req.headers.items())
    runtime = current_runtime()
    runtime.journal.record(
        started=time.time() - (time.perf_counter() - ctx.started),
        duration_ms=round((time.perf_counter() - ctx.started) * 1000, 3),
        method=req.method,
        path=req.path,
        query=req.query_string.decode("latin-1"),
        region=ctx.region,
        project=ctx.project,
        status=0 if ctx.dropped else response.status_code,
        error="connection_dropped" if ctx.dropped else (reply.get("error") if isinstance(reply, dict) else error_code(response.status_code, raw_reply)),
        body=raw or None,
        response=raw_reply or (None if reply is None or ctx.dropped else dumps(reply)),
        request_headers=headers,
        response_headers=tuple(response.headers.items()),
        fault=ctx.fault,
        via=req.environ.get(VIA),
        delivery=vars(ctx).get("delivery"),
        warning=vars(ctx).get("note") or (None if req.headers.get(KEY_HEADER) else key_warning(headers, raw_headers is not None)),
        stub=vars(ctx).get("stub"),
        off_spec=vars(ctx).get("off_spec"),
        violations=vars(ctx).get("violations"),
    )
    return response


def _respond(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def _api_error(error: ApiError) -> Response:
    return _respond(error)


HTTP_ERROR_CODES = {404: "unknown_endpoint", 405: "method_not_allowed", 413: "payload_too_large"}


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    code = HTTP_ERROR_CODES.get(status, "internal_error" if status >= 500 else "invalid_request")
    message = {
        404: f"No {request.method} {request.path} here. 1Flow's API lives under /{{region}}{API_VERSION_PATH}/v3/; "
        "GET /openapi.yaml lists every operation; the admin API (journal, state, faults) and its page are under /__admin/.",
        405: f"{request.method} is not allowed on {request.path}.",
        413: f"The body is over the {MAX_REQUEST_BYTES // 1024} KB the mock accepts.",
    }.get(status, error.description or error.name)
    extra = {"location": "body", "pointer": ""} if code == "invalid_request" else {}
    allowed = getattr(error, "valid_methods", None)  # RFC 9110 §15.5.6: a 405 lists what is allowed
    headers = {"Allow": ", ".join(allowed)} if status == 405 and allowed else None
    return _respond(ApiError(status, code, message, headers=headers, **extra))


def _unexpected_error(error: Exception) -> Response:
    log.exception("mock-1flow: unexpected error on %s %s", request.method, request.path)
    return _respond(ApiError(500, "internal_error", f"The mock failed unexpectedly ({type(error).__name__}); this is a bug in mock-1flow."))

