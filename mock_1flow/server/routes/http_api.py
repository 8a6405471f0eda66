"""1Flow's public HTTP API (https://docs.1flow.ai/integrations/http-api): what a server-side
forwarder, a history import or reverse ETL calls, beside the SDK API the 1Flow SDKs call.

Two forms, one server root:

- path form ``/{region}/v1/{identify,track,batch}`` on any host;
- host form ``/v1/...`` when the ``Host`` header is one of ``MockConfig.http_api_hosts``
  (``api.1flow.app`` -> us). ``/v1/...`` on any other host is Segment's HTTP Tracking API,
  which the ingest serves: :func:`serve_host_form` runs before routing picks Segment's view,
  so neither surface ever answers for the other.

Same projects (the ``api_key`` header holds the project key), regions, plan checks, state,
journal and faults as the SDK API. The page's limits: 32 KB per request to identify and
track, 500 KB to batch, 413 beyond, checked before anything is stored; a missing or unknown
key is 401 in both error profiles (the page lists 401, not 404).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from .. import cors
from ..errors import ApiError
from ..gate import authorize
from ..projects import Project
from ..runtime import Runtime, current_runtime
from ..store import ProjectState, object_id
from .common import json_response, ok, preflight_response, validated
from .sdk import host_name

log = logging.getLogger("mock_1flow")

PREFIX = "/v1"
KEY_HEADER = "api_key"
STANDARD_LIMIT = 32 * 1024  # "a maximum of 32KB per standard API request"
BATCH_LIMIT = 500 * 1024  # "The batch API endpoint accepts a maximum of 500KB per request"
DOCS = "https://docs.1flow.ai/integrations/http-api"
ALLOWED = "POST, OPTIONS"

Handler = Callable[[ProjectState, Any], Response]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    limit: int
    handler: Handler


bp = Blueprint("http_api", __name__)
_OPERATIONS: dict[str, Operation] = {}


def operation(name: str, operation_id: str, limit: int) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _OPERATIONS[name] = Operation(operation_id, limit, handler)
        return handler

    return register


def http_api_region(runtime: Runtime, host: str) -> str | None:
    """The region a ``Host`` header maps to for the host form, or None (then ``/v1`` is Segment's)."""
    return runtime.config.http_api_hosts.get(host_name(host))


def request_scope(runtime: Runtime, path: str, host: str, headers: Any) -> tuple[str | None, str, str | None] | None:
    """(region, path after the region, key) when the request is for this API, else None:
    what fault rules match on, the way they match SDK requests."""
    head, sep, rest = path.partition(PREFIX + "/")
    if not sep:
        return None
    if head == "":
        region = http_api_region(runtime, host)
        if region is None:
            return None
    elif head.count("/") == 1:
        region = head[1:]
    else:
        return None
    return region, PREFIX + "/" + rest, headers.get(KEY_HEADER) or None


@bp.route(f"/<region>{PREFIX}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
          provide_automatic_options=False)
def path_form(region: str, rest: str) -> Response:
    return _serve(region, rest)


def serve_host_form() -> Response | None:
    """``before_request`` hook: ``/v1/...`` on a mapped host is this API, whatever view routing
    chose (Segment's). Errors are answered here, in 1Flow's shape, since the matched view's
    blueprint (Segment's) would otherwise render them Segment's way."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    if not (req.path.startswith(PREFIX + "/") or req.path == PREFIX):
        return None
    runtime = current_runtime()
    region = http_api_region(runtime, req.host)
    if region is None:
        return None
    try:
        return _serve(region, req.path[len(PREFIX) + 1:])
    except ApiError as error:
        return json_response(error.body(), error.status, error.headers)
    except HTTPException as error:
        status = error.code or 500
        code = {413: "payload_too_large", 405: "method_not_allowed"}.get(status, "invalid_request")
        return json_response(ApiError(status, code, error.description or error.name).body(), status)
    except Exception as error:  # noqa: BLE001 - one error shape, never a traceback
        log.exception("mock-1flow: unexpected error on %s %s", req.method, req.path)
        failure = ApiError(500, "internal_error", f"The mock failed unexpectedly ({type(error).__name__}); this is a bug in mock-1flow.")
        return json_response(failure.body(), 500)


def _serve(region: str, rest: str) -> Response:
    runtime = current_runtime()
    ctx = g._get_current_object()
    ctx.region = region
    key = ctx.project = request.headers.get(KEY_HEADER) or None
    if region not in runtime.regions:
        raise ApiError(404, "unknown_region", f"Unknown region '{region}'. 1Flow regions are: {', '.join(runtime.regions)}; "
                       f"use e.g. /{runtime.regions[0]}{PREFIX}/track, or {PREFIX}/track with Host: api.1flow.app.")
    name = rest.strip("/")
    op = _OPERATIONS.get(name)
    if op is None:
        raise ApiError(404, "unknown_endpoint", f"1Flow's HTTP API has no {request.method} {PREFIX}/{name}; it has POST "
                       f"{', '.join(PREFIX + '/' + n for n in _OPERATIONS)} ({DOCS}).")
    if request.method == "OPTIONS":  # as the SDK API's hot path answers it
        if cors.is_preflight(request.method, request.headers.items()):
            return preflight_response(ALLOWED.split(", "))
        return Response(status=200, headers={"Allow": ALLOWED})
    if request.method != "POST":
        raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {PREFIX}/{name}; send a POST.",
                       headers={"Allow": ALLOWED})
    project = _authorize(runtime, region, key)
    body = validated(op.operation_id, {}, op.limit)
    with runtime.store.lock:
        return op.handler(runtime.store.state(project.key), body)


def operation_id(api_path: str) -> str | None:
    """The spec's operation for a path after the region (``/v1/track`` -> ``httpTrack``)."""
    op = _OPERATIONS.get(api_path[len(PREFIX) + 1:].strip("/"))
    return op.operation_id if op else None


def passes_gate(runtime: Runtime, region: str | None, key: str | None) -> bool:
    """Whether a request with this region and ``api_key`` passes the region and key checks
    (what a stub with ``after_gate`` waits for)."""
    if region not in runtime.regions:
        return False
    try:
        _authorize(runtime, region, key)
    except ApiError:
        return False
    return True


def _unauthorized(profile: str, code: str, message: str) -> ApiError:
    if profile == "backend":
        return ApiError(401, "invalid_key", f"Invalid key. {message}")
    return ApiError(401, code, message)


def _authorize(runtime: Runtime, region: str, key: str | None) -> Project:
    """401 for a missing or unknown key in both profiles (the page documents 401); the plan and
    home-region checks are the SDK API's."""
    profile = runtime.config.error_profile
    if not key:
        raise _unauthorized(profile, "missing_key", f"The {KEY_HEADER} header is missing. Send your 1Flow project key as "
                            f"'{KEY_HEADER}: <key>' (note the underscore: nginx and gunicorn drop such headers by default).")
    if key not in runtime.store.projects:
        raise _unauthorized(profile, "unknown_key", f"No project has the {KEY_HEADER} '{key}'. Use the project's API key.")
    try:
        return authorize(runtime.store, region, key, profile)
    except ApiError as error:
        if error.error == "key_region_mismatch":
            home = runtime.store.projects[key].region
            error.message = f"Project {runtime.store.projects[key].name} is hosted in {home}; send it to /{home}{PREFIX}/..."
        raise


# -- the operations -----------------------------------------------------------------------


def _epoch(text: str | None, pointer: str) -> int:
    """Epoch seconds of an ISO-8601 timestamp (UTC when it has no zone); now when absent."""
    if text is None:
        return int(datetime.now(timezone.utc).timestamp())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", f"Invalid request body {pointer}: '{text}' is not an ISO-8601 date-time ({exc}). "
                       "Send e.g. 2022-09-30T03:26:24.894Z.", location="body", pointer=pointer) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def _event(state: ProjectState, item: dict[str, Any], pointer: str) -> dict[str, Any]:
    """A track call as the store keeps SDK events. ``_id`` from ``message_id`` when given (a
    resend is then a duplicate); a call without one is always a new event."""
    time = _epoch(item.get("timestamp"), pointer + "/timestamp")
    key = item.get("message_id") or uuid.uuid4().hex
    event_id = object_id(state.key, "http-message" if item.get("message_id") else "http-event", key)
    return {"_id": event_id, "name": item["event"], "time": time, "parameters": item.get("properties") or {}, "plt": None}


@operation("identify", "httpIdentify", STANDARD_LIMIT)
def identify(state: ProjectState, body: Any) -> Response:
    _epoch(body.get("timestamp"), "/timestamp")
    user = state.app_user(body["user_id"], body.get("traits") or {})
    return ok("User identified", {"user_id": body["user_id"], "analytic_user_id": user["analytic_user_id"]})


@operation("track", "httpTrack", STANDARD_LIMIT)
def track(state: ProjectState, body: Any) -> Response:
    event = _event(state, body, "")
    analytic_id = state.app_user(body["user_id"])["analytic_user_id"]
    stored, duplicates = state.track(analytic_id, [event])
    return ok("Event tracked", {"analytic_user_id": analytic_id, "stored": stored, "duplicates": duplicates})


@operation("batch", "httpBatch", BATCH_LIMIT)
def batch(state: ProjectState, body: Any) -> Response:
    """All or nothing: every item is checked (timestamps included) before any is applied."""
    planned: list[tuple[Any, dict[str, Any] | None]] = []
    for index, item in enumerate(body["batch"]):
        pointer = f"/batch/{index}"
        if item["type"] == "identify":
            _epoch(item.get("timestamp"), pointer + "/timestamp")
            planned.append((item, None))
        else:
            planned.append((item, _event(state, item, pointer)))
    identified = stored = duplicates = 0
    for item, event in planned:
        if event is None:
            state.app_user(item["user_id"], item.get("traits") or {})
            identified += 1
            continue
        new, again = state.track(state.app_user(item["user_id"])["analytic_user_id"], [event])
        stored, duplicates = stored + new, duplicates + again
    return ok("Batch processed", {"identified": identified, "stored": stored, "duplicates": duplicates})


def allow_origin(response: Response) -> Response:
    """``after_request``: every answer of this API (errors, faults and stubs too) may be read
    by any origin, as 1Flow's services allow (``server/cors.py``). Registered after the
    journal's hook, so it runs first and the journal shows the header."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    if req.path.startswith("/__admin") or cors.has_allow_origin(response.headers.items()):
        return response
    if request_scope(current_runtime(), req.path, req.host, req.headers) is not None:
        response.headers[cors.ALLOW_ORIGIN[0]] = cors.ALLOW_ORIGIN[1]
    return response


def init_app(app: Flask) -> None:
    """The path form's routes, the host form's hook (after the core's fault hook), CORS."""
    app.register_blueprint(bp)
    app.before_request(serve_host_form)
    app.after_request(allow_origin)
