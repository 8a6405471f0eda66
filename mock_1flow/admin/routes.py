"""The admin API under ``/__admin``: health, journal, reset, projects, state, faults.

It answers loopback clients only unless the mock is configured with other networks.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request

from .. import __version__
from ..server.errors import ApiError
from ..server.projects import Project
from ..server.runtime import Runtime, current_runtime
from ..server.spec import API_VERSION_PATH
from ..server.validation import operation_validators
from ..server.routes.common import json_response, validated

bp = Blueprint("admin", __name__, url_prefix="/__admin")


@bp.before_request
def loopback_only() -> None:
    runtime = current_runtime()
    if not runtime.config.admin_allowed(request.remote_addr):
        raise ApiError(
            403,
            "admin_forbidden",
            f"The admin API answers {', '.join(runtime.config.admin_allow)} only; "
            f"{request.remote_addr} is not among them (see 'mock-1flow serve --admin-allow').",
        )
    validator = operation_validators().get(request.endpoint.split(".")[-1]) if request.endpoint else None
    if validator is not None:
        validator.validate_parameters(request.args, request.view_args or {})


def _project_or_404(runtime: Runtime, key: str) -> Project:
    project = runtime.store.projects.get(key)
    if project is None:
        raise ApiError(404, "unknown_project", f"No project with key '{key}'. GET /__admin/projects lists them.")
    return project


def _admin_body(operation_id: str, params: dict[str, str] | None = None) -> Any:
    return validated(operation_id, params or {}, current_runtime().config.max_body_bytes)


def query_limit() -> int | None:
    """The ``limit`` query parameter of the admin lists (one rule for all: the spec's
    ``Limit``, already checked by :func:`loopback_only`), or None."""
    return int(request.args["limit"]) if "limit" in request.args else None


def _ok() -> Any:
    return json_response({"ok": True})


@bp.get("/health", endpoint="adminHealth")
def health() -> Any:
    runtime = current_runtime()
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "regions": {region: f"/{region}{API_VERSION_PATH}" for region in runtime.regions},
            "http_api": {region: f"/{region}/v1" for region in runtime.regions},
            "projects": len(runtime.store.projects),
            "error_profile": runtime.config.error_profile,
            "instance": runtime.instance,
        }
    )


@bp.get("/requests", endpoint="adminListRequests")
def list_requests() -> Any:
    runtime = current_runtime()
    args = request.args
    entries, total = runtime.journal.query(
        method=args.get("method"),
        path=args.get("path"),
        region=args.get("region"),
        project=args.get("project"),
        status=int(args["status"]) if "status" in args else None,
        limit=query_limit(),
    )
    return json_response(
        {
            "requests": entries,
            "total": total,
            "recorded": runtime.journal.recorded,
            "dropped": runtime.journal.dropped,
            "cap": runtime.journal.cap,
        }
    )


@bp.delete("/requests", endpoint="adminClearRequests")
def clear_requests() -> Any:
    current_runtime().journal.clear()
    return _ok()


@bp.post("/reset", endpoint="adminReset")
def reset() -> Any:
    current_runtime().reset()
    return _ok()


@bp.get("/projects", endpoint="adminListProjects")
def list_projects() -> Any:
    store = current_runtime().store
    with store.lock:
        return json_response(
            {
                "projects": [p.as_dict() for p in store.projects.values()],
                "plans": {name: {"regions": list(plan.regions)} for name, plan in store.plans.items()},
            }
        )


@bp.post("/projects", endpoint="adminCreateProject")
def create_project() -> Any:
    body = _admin_body("adminCreateProject")
    store = current_runtime().store
    if body["plan"] not in store.plans:
        raise ApiError(
            400,
            "invalid_request",
            f"Unknown plan '{body['plan']}'. Known plans: {', '.join(store.plans)}.",
            location="body",
            pointer="/plan",
        )
    project = Project(**body)
    store.put_project(project)
    return json_response({"project": project.as_dict()}, 201)


@bp.get("/projects/<key>", endpoint="adminGetProject")
def get_project(key: str) -> Any:
    return json_response({"project": _project_or_404(current_runtime(), key).as_dict()})


@bp.delete("/projects/<key>", endpoint="adminDeleteProject")
def delete_project(key: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    runtime.store.delete_project(key)
    return _ok()


@bp.get("/projects/<key>/users", endpoint="adminListUsers")
def list_users(key: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    with runtime.store.lock:
        users = [dict(user) for user in runtime.store.state(key).users.values()]
    return json_response({"users": users, "total": len(users)})


@bp.get("/projects/<key>/events", endpoint="adminListEvents")
def list_events(key: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    user_id, name = request.args.get("user_id"), request.args.get("name")
    with runtime.store.lock:
        stored = runtime.store.state(key).events
        events = [
            e
            for e in stored
            if (user_id is None or e["user_id"] == user_id) and (name is None or e["name"] == name)
        ]
    return json_response({"events": events, "total": len(events), "dropped": stored.dropped, "cap": runtime.store.event_cap})


@bp.get("/projects/<key>/responses", endpoint="adminListSurveyResponses")
def list_responses(key: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    with runtime.store.lock:
        responses = list(runtime.store.state(key).responses)
    return json_response({"responses": responses, "total": len(responses)})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
