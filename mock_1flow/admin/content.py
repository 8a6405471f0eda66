"""Admin API for a project's content and its reset: ``/__admin/projects/{key}/surveys``,
``/__admin/projects/{key}/announcements`` and ``POST /__admin/projects/{key}/reset``."""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask

from ..server.content import client_errors
from ..server.errors import ApiError
from ..server.routes.common import json_response
from ..server.runtime import current_runtime
from .routes import _admin_body, _ok, _project_or_404, bp

OPERATIONS = {"surveys": ("adminGetProjectSurveys", "adminPutProjectSurveys"),
              "announcements": ("adminGetProjectAnnouncements", "adminPutProjectAnnouncements")}


def _get(key: str, kind: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    doc = runtime.surveys_for(key) if kind == "surveys" else runtime.announcements_for(key)
    return json_response(doc)


def _put(key: str, kind: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    body = _admin_body(OPERATIONS[kind][1], {"key": key})  # the spec's shape (400 invalid_request)
    refused = client_errors(kind, body)  # and every client's models
    if refused:
        first = refused[0]
        raise ApiError(
            400,
            "client_cannot_decode",
            f"Refused {kind} for {key}: " + "; ".join(map(str, refused)) + ". Fix that field; nothing was changed.",
            location="body",
            pointer=first.pointer,
            client=first.client,
            model=first.model,
            errors=[{"location": "body", "pointer": e.pointer, "message": e.reason, "client": e.client, "model": e.model}
                    for e in refused],
        )
    runtime.content.put(key, kind, body)
    runtime.state_changed()
    return _ok()


for _kind, (_get_operation, _put_operation) in OPERATIONS.items():  # one pair of routes a content kind
    bp.add_url_rule(f"/projects/<key>/{_kind}", _get_operation, functools.partial(_get, kind=_kind), methods=["GET"])
    bp.add_url_rule(f"/projects/<key>/{_kind}", _put_operation, functools.partial(_put, kind=_kind), methods=["PUT"])


@bp.post("/projects/<key>/reset", endpoint="adminResetProject")
def reset_project(key: str) -> Any:
    runtime = current_runtime()
    _project_or_404(runtime, key)
    runtime.reset_project(key)
    return _ok()


def init_app(app: Flask) -> None:
    """The routes live on the admin blueprint; importing this module registers them."""
