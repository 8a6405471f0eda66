"""The mock's request lifecycle: fault injection before, journaling after, one error shape.

Mounted by the composition root (``mock_1flow.app``) together with the SDK routes; the
Segment ingest and the admin API plug into the same hooks without this package knowing them.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterator

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .errors import ApiError
from .routes import http_api, sdk
from .routes.common import json_response
from .runtime import current_runtime
from .spec import API_VERSION_PATH, spec_text
from .validation import parse_json

log = logging.getLogger("mock_1flow")

UNJOURNALED_PREFIXES = ("/__admin", "/openapi.yaml")
MAX_REQUEST_BYTES = 1024 * 1024


def init_core(app: Flask) -> None:
    """The SDK API, the spec, the journal and fault hooks, and the error handlers."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    sdk.init_app(app)
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


def _before() -> Response | None:
    req, ctx = request._get_current_object(), g._get_current_object()
    ctx.started = time.perf_counter()
    path = req.path
    ctx.journaled = not path.startswith(UNJOURNALED_PREFIXES)
    ctx.region = ctx.project = ctx.request_json = ctx.response_body = ctx.fault = None
    ctx.dropped = False
    if not ctx.journaled:
        return None
    runtime = current_runtime()
    if not runtime.faults.faults:
        return None
    region, api_path = split_api_path(path)
    key = req.headers.get("one_flow_key")
    scope = http_api.request_scope(runtime, path, req.host, req.headers)  # 1Flow's HTTP API: api_key, /v1/...
    if scope is not None:
        region, api_path, key = scope
    fired = runtime.faults.pick(req.method, api_path, path, key, region)
    if fired is None:
        return None
    fault, latency = fired
    ctx.fault = fault.id
    if latency:
        time.sleep(latency)
    if fault.drop_connection:
        ctx.dropped = True
        return Response(_dropped_body(), status=200, headers={"Content-Length": "1024"}, mimetype="application/json")
    if fault.status is None:
        return None
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    code = "rate_limited" if fault.status == 429 else "injected_fault"
    # Answered here rather than raised: a raised error would be rendered by the matched view's
    # blueprint (on /v1/... that is Segment's, even for 1Flow's HTTP API on its host).
    return _respond(ApiError(fault.status, code, f"Injected fault {fault.id}: HTTP {fault.status}.", headers=headers))


def _dropped_body() -> Iterator[bytes]:
    """Send the headers and a fragment, then fail, so the server drops the connection."""
    yield b'{"success":'
    raise ConnectionAbortedError("mock-1flow fault: connection dropped on purpose")


def _journal(response: Response) -> Response:
    ctx = g._get_current_object()
    if not vars(ctx).get("journaled"):
        return response
    req = request._get_current_object()
    body: Any = ctx.request_json
    if body is None:
        raw = req.get_data(cache=True) if (req.content_length or 0) <= MAX_REQUEST_BYTES else b""
        body = _decode(raw)
    reply = ctx.response_body
    current_runtime().journal.record(
        {
            "time": time.time(),
            "method": req.method,
            "path": req.path,
            "query": req.query_string.decode("latin-1"),
            "region": ctx.region,
            "project": ctx.project,
            "status": 0 if ctx.dropped else response.status_code,
            "error": "connection_dropped" if ctx.dropped else (reply.get("error") if isinstance(reply, dict) else None),
            "body": body,
            "response": reply,
            "fault": ctx.fault,
            "via": req.headers.get("X-Mock-1flow-Via"),
            "delivery": vars(ctx).get("delivery"),
            "duration_ms": round((time.perf_counter() - ctx.started) * 1000, 3),
        }
    )
    return response


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return parse_json(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")


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
        "GET /openapi.yaml lists every operation.",
        405: f"{request.method} is not allowed on {request.path}.",
        413: f"The body is over the {MAX_REQUEST_BYTES // 1024} KB the mock accepts.",
    }.get(status, error.description or error.name)
    extra = {"location": "body", "pointer": ""} if code == "invalid_request" else {}
    return _respond(ApiError(status, code, message, **extra))


def _unexpected_error(error: Exception) -> Response:
    log.exception("mock-1flow: unexpected error on %s %s", request.method, request.path)
    return _respond(ApiError(500, "internal_error", f"The mock failed unexpectedly ({type(error).__name__}); this is a bug in mock-1flow."))

