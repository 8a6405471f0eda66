"""The admin API under ``/__admin``: health, journal, reset, projects, state, faults.

It answers loopback clients only unless the mock is configured with other networks, and
refuses what a web page could send it (README "Admin API security").
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request

from .. import __version__
from ..server.config import ADMIN_WRITE_HEADER
from ..server.errors import ApiError
from ..server.projects import Project
from ..server.runtime import Runtime, current_runtime
from ..server.spec import API_VERSION_PATH
from ..server.validation import operation_validators
from ..server.routes.common import json_response, validated

bp = Blueprint("admin", __name__, url_prefix="/__admin")


# A web page can send a cross-site GET, HEAD or POST without asking (a CORS "simple" request);
# PUT, PATCH and DELETE always need a preflight, which the mock never grants. So a POST must be
# made non-simple: the custom header or a JSON content type.
SIMPLE_WRITE_METHODS = frozenset({"POST"})


@bp.before_request
def loopback_only() -> None:
    """The admin API's guard, before any admin route or page: the client's address, then
    the ``Host`` (DNS rebinding), then the ``Origin`` (another site's page), then, for a
    state-changing call, a request no page can send cross-site without a preflight."""
    runtime = current_runtime()
    config = runtime.config
    if not config.admin_allowed(request.remote_addr):
        raise ApiError(
            403,
            "admin_forbidden",
            f"The admin API answers {', '.join(config.admin_allow)} only; "
            f"{request.remote_addr} is not among them (see 'mock-1flow serve --admin-allow').",
        )
    host = request.headers.get("Host")
    if not config.admin_host_allowed(host):
        raise ApiError(
            403,
            "admin_foreign_host",
            f"The admin API does not answer for Host '{_shown(host)}': call it as localhost, a loopback or "
            "--admin-allow address, or a host mapped with --host-region/--http-api-host (a name that "
            "resolves here without being one of those is how a DNS-rebinding page reaches a local server).",
        )
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin, host):
        raise ApiError(
            403,
            "admin_foreign_origin",
            f"The admin API refuses calls from the web page at Origin '{_shown(origin)}': only the mock's own "
            "page (same origin) may call it from a browser.",
        )
    if request.method in SIMPLE_WRITE_METHODS and not request.headers.get(ADMIN_WRITE_HEADER) and not _json_body():
        raise ApiError(
            403,
            "admin_header_required",
            f"{request.method} {request.path} changes the mock: send it with the header "
            f"'{ADMIN_WRITE_HEADER}: 1' or a JSON body (Content-Type: application/json), so that a web page "
            "cannot send it with a plain form.",
        )
    validator = operation_validators().get(request.endpoint.split(".")[-1]) if request.endpoint else None
    if validator is not None:
        validator.validate_parameters(request.args, request.view_args or {})


def _shown(value: str | None) -> str:
    return (value or "")[:100]


def _same_origin(origin: str, host: str | None) -> bool:
    """``Origin`` is ``scheme://host[:port]``; the mock's own page sends the ``Host`` it was
    loaded from. ``null`` (a sandboxed or file page) is never the mock's page."""
    scheme, sep, authority = origin.partition("://")
    return bool(sep) and scheme in ("http", "https") and host is not None and authority.lower() == host.strip().lower()


def _json_body() -> bool:
    mimetype = request.mimetype
    return mimetype == "application/json" or mimetype.endswith("+json")


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
        since_id=int(args["since_id"]) if "since_id" in args else None,
        limit=query_limit(),
        raw=True,  # bodies the mock parsed or wrote go out as they are (Journal.present)
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
    current_runtime().state_changed()
    return json_response({"project": project.as_dict()}, 201)


@bp.get("/projects/<key>", endpoint="adminGetProject")
def get_project(key: str) -> Any:
    return json_response({"project": _project_or_404(current_runtime(), key).as_dict()})


@bp.delete("/projects/<key>", endpoint="adminDeleteProject")
def delete_project(key: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    runtime.store.delete_project(key)
    runtime.state_changed()
    runtime.content.forget(key)
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
