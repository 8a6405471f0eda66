"""Pact's provider-state change endpoint: ``POST /__admin/provider-states``.

Any Pact verifier can prepare a running mock before each interaction. Pact posts
``{"state": ..., "params": {...}, "action": "setup" | "teardown"}`` as a JSON body (the
default of pact-python, pact-js, Pact JVM and ``pact_verifier_cli``; the query form is
not accepted). States carry their parameters (key, region, plan), so one state serves
many interactions.

Setup answers a flat JSON object of the values the state produced (``key``,
``analytic_user_id``, ``fault_id``, ...): Pact makes exactly the top-level keys of that
answer available to provider-state injection (``generate.provider_state("${analytic_user_id}")``
in a consumer test), which is how a contract uses ids only the provider knows.

Teardown touches only the project the state named: it is restored as loaded from the
projects file (or removed when the file has none), its data is dropped and the faults
states made for it are removed. Other projects and the journal stay, so after a failed
verification ``GET /__admin/requests`` still shows what the verifier sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from ..server.config import check_body_limit
from ..server.errors import ApiError
from ..server.faults import parse_fault
from ..server.projects import Project
from ..server.runtime import Runtime, current_runtime
from .routes import _admin_body, bp
from ..server.routes.common import json_response

Values = dict[str, Any]
STATE_FAULTS = "mock_1flow.provider_state_faults"  # app.extensions: project key -> fault ids made by states
STATE_BODY_LIMIT = "mock_1flow.provider_state_body_limit"  # the limit before a state lowered it
PROJECT_PARAMS = ("key", "region", "plan")


@dataclass(frozen=True)
class State:
    """One provider state: what it needs, what else it takes, and how it is set up."""

    setup: Callable[[Runtime, dict[str, Any]], Values]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


def _bad(message: str, pointer: str) -> ApiError:
    return ApiError(400, "invalid_request", message, location="body", pointer=pointer)


def _text(params: dict[str, Any], name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if not isinstance(value, str) or not value:
        raise _bad(f"State param '{name}' must be a non-empty string, not {value!r}.", f"/params/{name}")
    return value


def _count(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    if isinstance(value, str) and value.isascii() and value.isdigit():  # a verifier sending state params as text
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(f"State param '{name}' must be a whole number >= 0, not {value!r}.", f"/params/{name}")
    return value


def _state_faults() -> dict[str, list[str]]:
    return current_app.extensions.setdefault(STATE_FAULTS, {})


def _clear(runtime: Runtime, key: str) -> None:
    """Drop the project's data and the faults states made for it."""
    with runtime.store.lock:
        runtime.store.clear_state(key)
        for fault_id in _state_faults().pop(key, []):
            runtime.faults.remove(fault_id)


def _restore(runtime: Runtime, key: str) -> bool:
    """The project as loaded from the file (or gone); True when the file has it."""
    with runtime.store.lock:
        _clear(runtime, key)
        loaded = runtime.store.config.projects.get(key)
        if loaded is None:
            runtime.store.projects.pop(key, None)
        else:
            runtime.store.put_project(loaded)
    runtime.state_changed()
    return loaded is not None


def _project(runtime: Runtime, params: dict[str, Any]) -> Project:
    """Create or replace the project, with no data: a state always starts clean.

    The plan must be one the mock has loaded: a plan's meaning (the regions it includes)
    is the provider's, so a state cannot invent one.
    """
    key, region, plan = (_text(params, name) for name in PROJECT_PARAMS)
    if plan not in runtime.store.plans:
        raise _bad(f"Unknown plan '{plan}' (this mock has: {', '.join(runtime.store.plans)}). "
                   "Plans come from the projects file.", "/params/plan")
    if region not in runtime.regions:
        raise _bad(f"Unknown region '{region}' (this mock has: {', '.join(runtime.regions)}).", "/params/region")
    project = Project(key=key, name=_text(params, "name", key), region=region, plan=plan)
    with runtime.store.lock:
        _clear(runtime, key)
        runtime.store.put_project(project)
    runtime.state_changed()
    return project


def a_project(runtime: Runtime, params: dict[str, Any]) -> Values:
    return _project(runtime, params).as_dict()


def a_project_with_a_device(runtime: Runtime, params: dict[str, Any]) -> Values:
    device_id = _text(params, "device_id")  # every param is checked before anything changes
    project = _project(runtime, params)
    with runtime.store.lock:
        user = runtime.store.state(project.key).add_device(device_id, None)
    return {**project.as_dict(), "device_id": device_id, "analytic_user_id": user["analytic_user_id"],
            "system_id": user["system_id"]}


def no_project(runtime: Runtime, params: dict[str, Any]) -> Values:
    key = _text(params, "key")
    with runtime.store.lock:
        _clear(runtime, key)
        runtime.store.delete_project(key)
    runtime.state_changed()
    return {"key": key}


def a_rate_limited_project(runtime: Runtime, params: dict[str, Any]) -> Values:
    path, retry_after, times = _text(params, "path", "*"), _count(params, "retry_after", 1), _count(params, "times", 1)
    if times < 1:
        raise _bad("State param 'times' must be at least 1.", "/params/times")
    rule = {"path": path, "project": _text(params, "key"), "status": 429, "retry_after": retry_after, "times": times}
    try:
        parse_fault(rule, "check")  # every param is checked before anything changes
    except ValueError as exc:
        raise _bad(f"Bad rate limit: {exc}.", "/params") from None
    project = _project(runtime, params)
    with runtime.store.lock:
        fault = runtime.faults.add(rule)
        _state_faults().setdefault(project.key, []).append(fault.id)
    return {**project.as_dict(), "fault_id": fault.id, "retry_after": retry_after}


def a_project_with_a_body_limit(runtime: Runtime, params: dict[str, Any]) -> Values:
    """The SDK API's body limit lowered (e.g. to the public HTTP API's 32 KB) until teardown."""
    limit = _count(params, "max_body_bytes", 0)
    try:
        check_body_limit(limit)
    except ValueError as exc:
        raise _bad(f"State param 'max_body_bytes': {exc}.", "/params/max_body_bytes") from None
    project = _project(runtime, params)
    current_app.extensions.setdefault(STATE_BODY_LIMIT, runtime.config.max_body_bytes)
    runtime.config.max_body_bytes = limit
    return {**project.as_dict(), "max_body_bytes": limit}


def _restore_body_limit(runtime: Runtime) -> None:
    original = current_app.extensions.pop(STATE_BODY_LIMIT, None)
    if original is not None:
        runtime.config.max_body_bytes = original


STATES: dict[str, State] = {
    "a project": State(a_project, PROJECT_PARAMS, ("name",)),
    "a project with a device": State(a_project_with_a_device, PROJECT_PARAMS + ("device_id",), ("name",)),
    "no project": State(no_project, ("key",)),
    "a rate-limited project": State(a_rate_limited_project, PROJECT_PARAMS, ("name", "path", "retry_after", "times")),
    "a project with a body limit": State(a_project_with_a_body_limit, PROJECT_PARAMS + ("max_body_bytes",), ("name",)),
}


def _checked(name: str, params: dict[str, Any]) -> State:
    state = STATES.get(name)
    if state is None:
        known = "; ".join(f"'{n}' ({', '.join(s.required)})" for n, s in STATES.items())
        raise _bad(f"Unknown provider state '{name}'. Known: {known}.", "/state")
    missing = [p for p in state.required if p not in params]
    unknown = sorted(set(params) - set(state.required) - set(state.optional))
    if missing or unknown:
        problem = f"needs {', '.join(missing)}" if missing else f"does not take {', '.join(unknown)}"
        takes = ", ".join(state.required) + (f" [, {', '.join(state.optional)}]" if state.optional else "")
        raise _bad(f"Provider state '{name}' {problem} (it takes: {takes}).", "/params")
    return state


@bp.post("/provider-states", endpoint="adminProviderState")
def change_state() -> Any:
    body = _admin_body("adminProviderState")
    runtime = current_runtime()
    params = body.get("params") or {}
    state = _checked(body["state"], params)
    if body.get("action", "setup") == "teardown":
        key = _text(params, "key")
        _restore_body_limit(runtime)
        return json_response({"key": key, "restored": _restore(runtime, key)})
    return json_response(state.setup(runtime, params))


def init_app(app: Flask) -> None:
    """The route lives on the admin blueprint; importing this module registers it."""
