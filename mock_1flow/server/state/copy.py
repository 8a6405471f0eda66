"""A consistent copy of the whole state, taken in one short hold of the store's lock.

The state document and the state file's compaction both write the state out, which takes
seconds at a million events; holding the lock that long stalls every SDK request. So they
copy first and write from the copy with the lock released. The copy is cheap: stored events
are immutable ``bytes`` (a call costs three pointers here), and a user costs a shallow dict
with its four growing containers copied (the only parts of a user record changed in place).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import Store
from . import StateParts

USER_DEFAULTS: dict[str, Any] = {"anonymous_ids": [], "context": None, "created_on": 0}


@dataclass(slots=True)
class ProjectCopy:
    key: str
    users: list[dict[str, Any]]
    devices: dict[str, str]
    app_users: dict[str, str]
    responses: list[dict[str, Any]]
    sessions: int
    callers: list[str]  # per stored call: the analytic user id,
    received: list[float | str]  # when it arrived,
    rows: list[bytes]  # and its events as packed JSON


@dataclass(slots=True)
class StateCopy:
    projects: list[dict[str, Any]]
    parts: dict[str, Any]
    states: list[ProjectCopy]
    order: list[int] | None  # per stored call, oldest first across projects: its project's index in states


def copy_user(user: dict[str, Any]) -> dict[str, Any]:
    return {**USER_DEFAULTS, **user, "device_ids": list(user["device_ids"]), "anonymous_ids": list(user.get("anonymous_ids", ())),
            "push_tokens": list(user["push_tokens"]), "parameters": dict(user["parameters"])}


def take(store: Store, parts: StateParts) -> StateCopy:
    """Copy the state; ``order`` says how the stored calls interleave across projects (the
    event cap drops the oldest first), None if the budget's record of it does not add up."""
    with store.lock:
        states: list[ProjectCopy] = []
        index: dict[int, int] = {}
        for key, state in store.states.items():
            callers, received, rows = state.events.calls()
            index[id(state.events)] = len(states)
            states.append(ProjectCopy(
                key=key, users=[copy_user(user) for user in state.users.values()], devices=dict(state.devices),
                app_users=dict(state.app_users), responses=list(state.responses), sessions=state.sessions,
                callers=callers, received=received, rows=rows,
            ))
        found = [index.get(id(log), -1) for log in store.event_budget.order() if not log.released]
        order = None if -1 in found or len(found) != sum(len(state.rows) for state in states) else found
        return StateCopy(
            projects=[project.as_dict() for project in store.projects.values()],
            parts=parts.export(),
            states=states,
            order=order,
        )
