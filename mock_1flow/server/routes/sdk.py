"""The 1Flow SDK API (v3), per region: path form ``/{region}/api/2021-06-15/v3/...``
and host form ``/api/2021-06-15/v3/...`` (region from the ``Host`` header)."""

from __future__ import annotations

import re
from typing import Any, Callable

from flask import Blueprint, Flask, g, request

from ..errors import ApiError
from ..gate import authorize, check_region
from ..runtime import Runtime, current_runtime
from ..spec import API_VERSION_PATH
from ..store import ProjectState
from .common import ok, validated

Handler = Callable[[Runtime, ProjectState, Any, dict[str, str]], Any]

BULK_PATTERN = re.compile(r"(^|/)(bulk|batch|batches|import)(/|$)", re.IGNORECASE)

bp = Blueprint("sdk", __name__)
_OPERATIONS: dict[str, Handler] = {}


def operation(operation_id: str, suffix: str, method: str) -> Callable[[Handler], Handler]:
    """Register a handler for one spec operation under both the path and the host form."""

    def register(handler: Handler) -> Handler:
        _OPERATIONS[operation_id] = handler
        for rule in (f"/<region>{API_VERSION_PATH}{suffix}", f"{API_VERSION_PATH}{suffix}"):
            bp.add_url_rule(rule, operation_id, _dispatch, methods=[method])
        return handler

    return register


def host_region(runtime: Runtime) -> str:
    host = request.host.lower()
    name = host if host.startswith("[") else host.split(":")[0]
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


def _enter(runtime: Runtime, path_params: dict[str, str]) -> tuple[str, str | None]:
    """Resolve the region and key of an SDK request and note them for the journal."""
    ctx = g._get_current_object()
    region = ctx.region = path_params.pop("region", None)
    key = ctx.project = request.headers.get("one_flow_key") or None
    if region is None:
        region = ctx.region = host_region(runtime)
    check_region(region, runtime.regions)
    return region, key


def _dispatch(**path_params: str) -> Any:
    runtime = current_runtime()
    operation_id = request.url_rule.endpoint[4:]  # "sdk.<operationId>"
    region, key = _enter(runtime, path_params)
    project = authorize(runtime.store, region, key, runtime.config.error_profile)
    body = validated(operation_id, path_params, runtime.config.max_body_bytes)
    with runtime.store.lock:
        return _OPERATIONS[operation_id](runtime, runtime.store.state(project.key), body, path_params)


@bp.route(f"/<region>{API_VERSION_PATH}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route(f"{API_VERSION_PATH}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_sdk_path(rest: str, region: str | None = None) -> Any:
    """Paths 1Flow does not have: bulk/batch (rETL) gets its own 404, the rest ``unknown_endpoint``."""
    params = {"region": region} if region is not None else {}
    _enter(current_runtime(), params)
    if BULK_PATTERN.search(rest):
        raise ApiError(
            404,
            "bulk_not_supported",
            f"The SDK API has no bulk or batch endpoint ({request.method} /{rest}), and 1Flow has no bulk contacts "
            "endpoint (Segment's rETL line). Send one user per /v3/user or /v3/identify call and events through "
            "/v3/track, or use 1Flow's HTTP API, whose batch endpoint takes up to 500 KB: POST /{region}/v1/batch.",
        )
    raise ApiError(
        404,
        "unknown_endpoint",
        f"1Flow's API has no {request.method} /{rest}. See GET /openapi.yaml for the operations the mock serves.",
    )


@operation("addUser", "/v3/user", "POST")
def add_user(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    user = state.add_device(body["user_id"], body.get("context"))
    os_name = ((body.get("context") or {}).get("os") or {}).get("name")
    devices = [
        {"_id": user["analytic_user_id"], "os": os_name, "device_id": device, "common_id": user["analytic_user_id"]}
        for device in user["device_ids"]
    ]
    result = {
        "analytic_user_id": user["analytic_user_id"],
        "system_id": user["system_id"],
        "first_name": "",
        "last_name": "",
        "devices": devices,
        "created_on": user["created_on"],
    }
    return ok("found", result)


@operation("identifyUser", "/v3/identify", "POST")
def identify(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    user, session_id = state.identify(body["anonymous_user_id"], body["user_id"], body.get("parameters") or {})
    return ok("User identified", {"analytic_user_id": user["analytic_user_id"], "session_id": session_id})


@operation("trackEvents", "/v3/track", "POST")
def track(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    stored, duplicates = state.track(body["user_id"], body["events"])
    return ok("Events added", {"stored": stored, "duplicates": duplicates})


def _platform_surveys(runtime: Runtime) -> list[dict[str, Any]]:
    platform = request.args.get("platform", "").lower()
    surveys = runtime.surveys["surveys"]
    if not platform:
        return surveys
    return [s for s in surveys if platform in {p.lower() for p in s.get("platforms", [])}]


@operation("listSurveys", "/v3/survey", "GET")
def list_surveys(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    return ok(
        "Survey found successfully",
        _platform_surveys(runtime),
        throttlingMobileSDKConfig=runtime.surveys["throttlingMobileSDKConfig"],
    )


@operation("getSurvey", "/v3/survey/<survey_id>", "GET")
def get_survey(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    for survey in runtime.surveys["surveys"]:
        if survey["_id"] == params["survey_id"]:
            return ok("Survey found successfully", survey)
    known = ", ".join(s["_id"] for s in runtime.surveys["surveys"])
    raise ApiError(404, "unknown_survey", f"No survey '{params['survey_id']}' in this project (known: {known}).")


@operation("submitSurveyResponse", "/v3/response", "POST")
def submit_response(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    stored = state.add_response(body)
    return ok("Response added", {"_id": stored["_id"]})


@operation("listAnnouncements", "/v3/announcements", "GET")
def list_announcements(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    data = runtime.announcements
    return ok("Announcements found", {"announcements": data["announcements"], "theme": data["theme"]})


@operation("getAnnouncementDetails", "/v3/announcements/inbox", "GET")
def announcement_details(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    wanted = [item.strip() for item in request.args["ids"].split(",") if item.strip()]
    details = [d for d in runtime.announcements["details"] if d["id"] in wanted]
    return ok("Announcements found", details)


@operation("registerPushToken", "/v3/user/device/<analytic_user_id>", "POST")
def register_push_token(runtime: Runtime, state: ProjectState, body: Any, params: dict[str, str]) -> Any:
    user = state.add_push_token(params["analytic_user_id"], body["token"])
    return ok("Push token added", {"analytic_user_id": user["analytic_user_id"]})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
