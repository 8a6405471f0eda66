"""1Flow's public HTTP API (https://docs.1flow.ai/integrations/http-api): what a server-side
forwarder, a history import or reverse ETL calls, beside the SDK API the 1Flow SDKs call.

Two forms, one server root:

- path form ``/{region}/v1/{identify,track,batch}`` on any host;
- host form ``/v1/...`` when the ``Host`` header is one of ``MockConfig.http_api_hosts``
  (``api.1flow.app`` -> us). ``/v1/...`` on any other host is Segment's HTTP Tracking API,
  which the ingest serves: the hot path routes by path and ``Host`` (:func:`route`), so
  neither surface ever answers for the other.

Served by the SDK API's hot path (:mod:`..hotpath`: faults, stubs, gate, validation, store,
journal, CORS, on the event loop without Flask); :data:`HTTP_API` holds what differs from
the SDK API. Same projects (the ``api_key`` header holds the project key), regions, plan
checks, state, journal and faults as the SDK API. The page's limits: 32 KB per request to
identify and track, 500 KB to batch, 413 beyond, checked before anything is stored; a
missing or unknown key is 401 in both error profiles (the page lists 401, not 404); query
parameters are refused (the API takes none).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from ..errors import ApiError, envelope
from ..gate import authorize
from ..projects import Project
from ..runtime import Runtime
from ..store import ProjectState, object_id
from .sdk import host_name

PREFIX = "/v1"
KEY_HEADER = "api_key"
STANDARD_LIMIT = 32 * 1024  # "a maximum of 32KB per standard API request"
BATCH_LIMIT = 500 * 1024  # "The batch API endpoint accepts a maximum of 500KB per request"
DOCS = "https://docs.1flow.ai/integrations/http-api"
ALLOWED = ("POST", "OPTIONS")

Params = Mapping[str, str]
Handler = Callable[[Runtime, ProjectState, Any, Params, Params], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """One operation: its spec id, the body limit the page gives it, its handler (the SDK
    API's handler signature, so the hot path calls both alike)."""

    operation_id: str
    limit: int
    handler: Handler
    method: str = "POST"


OPERATIONS: dict[str, Operation] = {}


def operation(name: str, operation_id: str, limit: int) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = Operation(operation_id, limit, handler)
        return handler

    return register


def http_api_region(runtime: Runtime, host: str) -> str | None:
    """The region a ``Host`` header maps to for the host form, or None (then ``/v1`` is Segment's)."""
    return runtime.config.http_api_hosts.get(host_name(host))


def route(runtime: Runtime, path: str, host: str) -> tuple[str, str] | None:
    """(region as the request names it, path after it: ``v1/track``) when ``path`` on ``host``
    is this API, else None. The region is checked later (:meth:`HttpApi.admit`), so that an
    unknown one is answered in this API's shape."""
    if path.startswith(PREFIX):
        if path != PREFIX and path[len(PREFIX)] != "/":
            return None
        region = http_api_region(runtime, host)
        return None if region is None else (region, path[1:])
    at = path.find(PREFIX + "/", 1)
    if at < 2 or "/" in path[1:at] or path.startswith("/__admin"):
        return None
    return path[1:at], path[at + 1:]


class HttpApi:
    """What 1Flow's HTTP API does differently from the SDK API on the shared hot path."""

    key_header = KEY_HEADER
    strict_query = True  # the API takes no query parameters: any is refused (FIDELITY.md)

    def operation(self, rest: str) -> Operation | None:
        """The operation for the path after the region (``v1/track/`` -> track)."""
        return OPERATIONS.get(rest[len(PREFIX):].strip("/"))

    def admit(self, runtime: Runtime, method: str, region: str | None, rest: str) -> None:
        """Region known, endpoint known: checked before anything else (a preflight too)."""
        if region not in runtime.regions:
            raise ApiError(404, "unknown_region", f"Unknown region '{region}'. 1Flow regions are: "
                           f"{', '.join(runtime.regions)}; use e.g. /{runtime.regions[0]}{PREFIX}/track, "
                           f"or {PREFIX}/track with Host: api.1flow.app.")
        if self.operation(rest) is None:
            name = rest[len(PREFIX):].strip("/")
            raise ApiError(404, "unknown_endpoint", f"1Flow's HTTP API has no {method} {PREFIX}/{name}; it has POST "
                           f"{', '.join(PREFIX + '/' + n for n in OPERATIONS)} ({DOCS}).")

    def enter(self, runtime: Runtime, region: str | None, host: str) -> str:
        assert region is not None  # admitted
        return region

    def unknown(self, method: str, rest: str) -> ApiError:
        return ApiError(404, "unknown_endpoint", f"1Flow's HTTP API has no {method} /{rest} ({DOCS}).")

    def not_allowed(self, method: str, path: str, rest: str, allowed: tuple[str, ...]) -> ApiError:
        return ApiError(405, "method_not_allowed",
                        f"{method} is not allowed on {PREFIX}/{rest[len(PREFIX):].strip('/')}; send a POST.",
                        headers={"Allow": ", ".join(ALLOWED)})

    def authorize(self, runtime: Runtime, region: str, key: str | None) -> str:
        return _authorize(runtime, region, key).key

    def body_limit(self, runtime: Runtime, operation: Any) -> int:
        return operation.limit


HTTP_API = HttpApi()


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


def ok(message: str, result: Any) -> dict[str, Any]:
    return envelope(200, message, result)


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
def identify(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    _epoch(body.get("timestamp"), "/timestamp")
    user = state.app_user(body["user_id"], body.get("traits") or {})
    return ok("User identified", {"user_id": body["user_id"], "analytic_user_id": user["analytic_user_id"]})


@operation("track", "httpTrack", STANDARD_LIMIT)
def track(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    event = _event(state, body, "")
    analytic_id = state.app_user(body["user_id"])["analytic_user_id"]
    stored, duplicates = state.track(analytic_id, [event])
    return ok("Event tracked", {"analytic_user_id": analytic_id, "stored": stored, "duplicates": duplicates})


@operation("batch", "httpBatch", BATCH_LIMIT)
def batch(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
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
