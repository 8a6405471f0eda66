"""Pact's provider-state change endpoint: ``POST /__admin/provider-states``.

Any Pact verifier can set a running mock up before each interaction. Pact sends
``{"state": ..., "params": {...}, "action": "setup" | "teardown"}``; states carry their
parameters (key, region, plan), so one state serves many interactions. Teardown resets
the mock to its loaded projects.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import ApiError
from ..projects import Project
from ..runtime import Runtime, current_runtime
from .admin import _admin_body, bp
from .common import json_response


def _project(runtime: Runtime, params: dict[str, Any]) -> Project:
    missing = [name for name in ("key", "region", "plan") if not params.get(name)]
    if missing:
        raise ApiError(400, "invalid_request", f"State params need {', '.join(missing)}.", location="body", pointer="/params")
    key, region, plan = (str(params[name]) for name in ("key", "region", "plan"))
    if plan not in runtime.store.plans:
        raise ApiError(400, "invalid_request", f"Unknown plan '{plan}' (known: {', '.join(runtime.store.plans)}).",
                       location="body", pointer="/params/plan")
    if region not in runtime.regions:
        raise ApiError(400, "invalid_request", f"Unknown region '{region}'.", location="body", pointer="/params/region")
    project = Project(key=key, name=str(params.get("name") or key), region=region, plan=plan)
    runtime.store.put_project(project)
    return project


def a_project(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    return {"project": _project(runtime, params).as_dict()}


def a_project_with_a_device(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    project = _project(runtime, params)
    with runtime.store.lock:
        user = runtime.store.state(project.key).add_device(str(params.get("device_id", "device-1")), None)
    return {"project": project.as_dict(), "analytic_user_id": user["analytic_user_id"]}


def no_project(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    key = str(params.get("key", ""))
    runtime.store.delete_project(key)
    return {"deleted": key}


def a_rate_limited_project(runtime: Runtime, params: dict[str, Any]) -> dict[str, Any]:
    project = _project(runtime, params)
    fault = runtime.faults.add({"path": str(params.get("path", "*")), "project": project.key, "status": 429,
                                "retry_after": int(params.get("retry_after", 1)), "times": 1})
    return {"project": project.as_dict(), "fault": fault.id}


STATES: dict[str, Callable[[Runtime, dict[str, Any]], dict[str, Any]]] = {
    "a project": a_project,
    "a project with a device": a_project_with_a_device,
    "no project": no_project,
    "a rate-limited project": a_rate_limited_project,
}


@bp.post("/provider-states", endpoint="adminProviderState")
def change_state() -> Any:
    body = _admin_body("adminProviderState")
    runtime = current_runtime()
    if body.get("action", "setup") == "teardown":
        runtime.reset()
        return json_response({"result": {}})
    handler = STATES.get(body["state"])
    if handler is None:
        raise ApiError(400, "invalid_request", f"Unknown provider state '{body['state']}'. Known: {', '.join(STATES)}.",
                       location="body", pointer="/state")
    return json_response({"result": handler(runtime, body.get("params") or {})})


def init_app(app: Any) -> None:
    """The route lives on the admin blueprint; importing this module registers it."""
