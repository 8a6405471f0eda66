"""The 1Flow SDK API (v3): one handler per spec operation, in a table the hot path
(:mod:`mock_1flow.server.hotpath`) serves under the path form ``/{region}/api/2021-06-15/v3/...``
and the host form ``/api/2021-06-15/v3/...`` (region from the ``Host`` header).

A handler gets the runtime, the project's state, the validated body, the path and query
parameters, and returns the response envelope; it runs under the store's lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..errors import ApiError, envelope
from ..content import details_for, surveys_for_platform
from ..gate import authorize, check_region
from ..runtime import Runtime
from ..spec import API_VERSION_PATH
from ..store import ProjectState, object_id

Params = Mapping[str, str]
Handler = Callable[[Runtime, ProjectState, Any, Params, Params], dict[str, Any]]

BULK_PATTERN = re.compile(r"(^|/)(bulk|batch|batches|import)(/|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Operation:
    """One spec operation: its id, method, path after the API base (``/v3/track``) and handler."""

    operation_id: str
    method: str
    suffix: str
    handler: Handler


OPERATIONS: list[Operation] = []


def operation(operation_id: str, suffix: str, method: str) -> Callable[[Handler], Handler]:
    """Add a handler to the operation table (``<name>`` in ``suffix`` is a path parameter)."""

    def register(handler: Handler) -> Handler:
        OPERATIONS.append(Operation(operation_id, method, suffix, handler))
        return handler

    return register


def enter(runtime: Runtime, region: str | None, host: str) -> str:
    """The region of an SDK request (from the path, else the ``Host`` header), checked."""
    if region is None:
        region = host_region(runtime, host)
    check_region(region, runtime.regions)
    return region


def host_name(host: str) -> str:
    """A ``Host`` header without its port, lower-cased (an IPv6 literal stays bracketed)."""
    host = host.lower()
    return host if host.startswith("[") else host.split(":")[0]


def host_region(runtime: Runtime, host: str) -> str:
    name = host_name(host)
    region = runtime.config.host_regions.get(name)
    if region is None:
        raise ApiError(
            404,
            "unknown_region",
            f"Host '{name}' is not mapped to a region. Use the path form "
            f"/{runtime.regions[0]}{API_VERSION_PATH}/v3/... or map the host with "
            f"'mock-1flow serve --host-region {name}=us'.",
        )
    return region


def ok(message: str, result: Any, **extra: Any) -> dict[str, Any]:
    return envelope(200, message, result, **extra)


def unknown_path_error(method: str, rest: str) -> ApiError:
    """Paths 1Flow does not have: bulk/batch (rETL) gets its own 404, the rest ``unknown_endpoint``."""
    if BULK_PATTERN.search(rest):
        return ApiError(
            404,
            "bulk_not_supported",
            f"1Flow's SDK API has no bulk or batch endpoint ({method} /{rest}); Segment's rETL bulk contacts "
            "endpoint is not supported by 1Flow. Send one user per /v3/user or /v3/identify call and events, "
            "many at once, through /v3/track. (The batch endpoint of 1Flow's public HTTP API, POST /{region}/v1/batch, is a different API.)",
        )
    return ApiError(
        404,
        "unknown_endpoint",
        f"1Flow's API has no {method} /{rest}. See GET /openapi.yaml for the operations the mock serves.",
    )


class SdkApi:
    """The SDK API's rules on the hot path (:mod:`..hotpath`); 1Flow's HTTP API has its own
    (:class:`.http_api.HttpApi`): which header holds the key, the gate, the errors, the limits."""

    key_header = "one_flow_key"
    strict_query = False  # unknown query parameters are ignored and journaled, unless serve --strict-query

    def admit(self, runtime: Runtime, method: str, region: str | None, rest: str) -> None:
        """Nothing is checked before a preflight or a 405 on the SDK API."""

    def enter(self, runtime: Runtime, region: str | None, host: str) -> str:
        return enter(runtime, region, host)

    def unknown(self, method: str, rest: str) -> ApiError:
        return unknown_path_error(method, rest)

    def not_allowed(self, method: str, path: str, rest: str, allowed: tuple[str, ...]) -> ApiError:
        return ApiError(405, "method_not_allowed", f"{method} is not allowed on {path}. Allowed: {', '.join(allowed)}.",
                        headers={"Allow": ", ".join(allowed)})

    def authorize(self, runtime: Runtime, region: str, key: str | None) -> str:
        return authorize(runtime.store, region, key, runtime.config.error_profile).key

    def body_limit(self, runtime: Runtime, operation: Any) -> int:
        return runtime.config.max_body_bytes


SDK_API = SdkApi()


def _user_result(user: dict[str, Any]) -> dict[str, Any]:
    """The user as the SDK models read it (iOS AddUserResponse.json; Android OFAddUserResponse,
    OFLogUserResponse): ids, names, one device entry per device id, no locations (the mock
    does no IP geolocation), epoch-millisecond times."""
    os_name = ((user.get("context") or {}).get("os") or {}).get("name")
    analytic_id = user["analytic_user_id"]
    devices = [
        {"_id": object_id(analytic_id, "device", device), "os": os_name, "unique_id": device, "device_id": device,
         "common_id": analytic_id}
        for device in user["device_ids"]
    ]
    return {
        "analytic_user_id": analytic_id,
        "system_id": user["system_id"],
        "first_name": "",
        "last_name": "",
        "devices": devices,
        "locations": [],
        "created_on": user["created_on"],
        "updated_on": user["updated_on"],
    }


@operation("addUser", "/v3/user", "POST")
def add_user(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    user = state.add_device(body["user_id"], body.get("context"))
    return ok("found", _user_result(user))


@operation("identifyUser", "/v3/identify", "POST")
def identify(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    user, session_id = state.identify(body["anonymous_user_id"], body["user_id"], body.get("parameters") or {})
    return ok("User identified", {**_user_result(user), "session_id": session_id})


@operation("trackEvents", "/v3/track", "POST")
def track(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    stored, duplicates = state.track(body["user_id"], body["events"])
    return ok("Events added", {"stored": stored, "duplicates": duplicates})


@operation("listSurveys", "/v3/survey", "GET")
def list_surveys(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    content = runtime.surveys_for(state.key)
    return ok(
        "Survey found successfully",
        surveys_for_platform(content, query.get("platform", "")),
        throttlingMobileSDKConfig=content["throttlingMobileSDKConfig"],
    )


@operation("getSurvey", "/v3/survey/<survey_id>", "GET")
def get_survey(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    surveys = runtime.surveys_for(state.key)["surveys"]
    for survey in surveys:
        if survey["_id"] == params["survey_id"]:
            return ok("Survey found successfully", survey)
    known = ", ".join(s["_id"] for s in surveys) or "none"
    raise ApiError(404, "unknown_survey", f"No survey '{params['survey_id']}' in this project (known: {known}).")


@operation("submitSurveyResponse", "/v3/response", "POST")
def submit_response(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    stored = state.add_response(body)
    return ok("Response added", {"_id": stored["_id"]})


@operation("listAnnouncements", "/v3/announcements", "GET")
def list_announcements(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    data = runtime.announcements_for(state.key)
    return ok("Announcements found", {"announcements": data["announcements"], "theme": data["theme"]})


@operation("getAnnouncementDetails", "/v3/announcements/inbox", "GET")
def announcement_details(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    wanted = [item.strip() for item in query["ids"].split(",") if item.strip()]
    return ok("Announcements found", details_for(runtime.announcements_for(state.key), wanted))


@operation("registerPushToken", "/v3/user/device/<analytic_user_id>", "POST")
def register_push_token(runtime: Runtime, state: ProjectState, body: Any, params: Params, query: Params) -> dict[str, Any]:
    user = state.add_push_token(params["analytic_user_id"], body["token"])
    return ok("Push token added", {"analytic_user_id": user["analytic_user_id"]})
