"""The mock's resettable state (moto-style): projects, and per project its users,
events, survey responses and push tokens.

Ids are derived from their inputs (project key, device id, app user id), so the same
device always gets the same ``analytic_user_id`` and runs are reproducible.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .events import DEFAULT_EVENT_CAP, DEFAULT_EVENT_MAX_BYTES, EventBudget, EventLog
from .projects import Plan, Project, ProjectsConfig, Source

if TYPE_CHECKING:
    from .stubs import StubSet
    from .state import StateSink


def object_id(*parts: str) -> str:
    """A 24-hex id (Mongo ObjectId shaped) derived from ``parts``."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ProjectState:
    """Everything one project has received.

    Every change goes through the methods below; each tells ``sink`` (when the store has
    one: the durable ``--state-file``) what it did, with the time it used (``at``, epoch
    seconds), so replaying the records gives the same users, ids and timestamps.
    """

    key: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)
    app_users: dict[str, str] = field(default_factory=dict)
    events: EventLog = field(default_factory=EventLog)
    responses: list[dict[str, Any]] = field(default_factory=list)
    sessions: int = 0
    sink: "StateSink | None" = None

    def _new_user(self, analytic_id: str, system_id: str, at: float) -> dict[str, Any]:
        user: dict[str, Any] = {
            "analytic_user_id": analytic_id,
            "system_id": system_id,
            "device_ids": [],
            "user_id": None,
            "identified": False,
            "anonymous_ids": [],
            "parameters": {},
            "context": None,
            "push_tokens": [],
            "created_on": int(at * 1000),
        }
        user["updated_on"] = user["created_on"]
        self.users[analytic_id] = user
        return user

    def add_device(self, device_id: str, context: dict[str, Any] | None, at: float | None = None) -> dict[str, Any]:
        """``/v3/user``: one analytic user per device, stable across calls.

        After logUser both SDKs register with the app user id as the device id (iOS sets
        ``systemID = userId``; Android stores it as ``SHP_DEVICE_UNIQUE_ID``), so an id that
        names an identified app user gets that user back, not a new anonymous one.
        """
        at = time.time() if at is None else at
        analytic_id = self.devices.get(device_id)
        if analytic_id is None or analytic_id not in self.users:
            identified = self.app_users.get(device_id)
            if identified in self.users:
                analytic_id = identified
            else:
                analytic_id = object_id(self.key, "device", device_id)
                system = uuid.UUID(hashlib.md5(f"{self.key}|{device_id}".encode()).hexdigest())
                if analytic_id not in self.users:
                    self._new_user(analytic_id, str(system).upper(), at)
            if device_id not in self.users[analytic_id]["device_ids"]:
                self.users[analytic_id]["device_ids"].append(device_id)
            self.devices[device_id] = analytic_id
        user = self.users[analytic_id]
        if context:
            user["context"] = context
        if self.sink is not None:
            self.sink.add_device(self.key, device_id, context, at)
        return user

    def analytic_id_of(self, app_user_id: str) -> str:
        """The analytic id an app user has, or gets when first identified."""
        return self.app_users.get(app_user_id) or object_id(self.key, "user", app_user_id)

    def identify(
        self, anonymous_id: str, app_user_id: str, parameters: dict[str, Any], at: float | None = None
    ) -> tuple[dict[str, Any], str]:
        """``/v3/identify``: the app user's record absorbs the anonymous one."""
        at = time.time() if at is None else at
        identified_id = self.analytic_id_of(app_user_id)
        user = self.users.get(identified_id)
        if user is None:
            user = self._new_user(identified_id, app_user_id, at)
        user.update(user_id=app_user_id, identified=True)
        self.app_users[app_user_id] = identified_id
        anonymous = self.users.get(anonymous_id) if anonymous_id != identified_id else None
        if anonymous is not None and not anonymous["identified"]:
            del self.users[anonymous_id]
            for device_id in anonymous["device_ids"]:
                self.devices[device_id] = identified_id
                if device_id not in user["device_ids"]:
                    user["device_ids"].append(device_id)
            user["push_tokens"].extend(t for t in anonymous["push_tokens"] if t not in user["push_tokens"])
            user["context"] = user["context"] or anonymous["context"]
            user["parameters"] = {**anonymous["parameters"], **user["parameters"]}
        if anonymous_id != identified_id and anonymous_id not in user["anonymous_ids"]:
            user["anonymous_ids"].append(anonymous_id)
        user["parameters"].update(parameters)
        user["updated_on"] = int(at * 1000)
        self.sessions += 1
        if self.sink is not None:
            self.sink.identify(self.key, anonymous_id, app_user_id, parameters, at)
        return user, object_id(self.key, "session", identified_id, str(self.sessions))

    def app_user(self, app_user_id: str, traits: dict[str, Any] | None = None) -> dict[str, Any]:
        """1Flow's HTTP API knows users by their app user id only: the record an SDK identify of
        that id reaches, created when new, with ``traits`` merged into its parameters."""
        user, _ = self.identify(self.analytic_id_of(app_user_id), app_user_id, traits or {})
        return user

    def track(self, analytic_id: str, events: list[dict[str, Any]]) -> tuple[int, int]:
        """``/v3/track``: store each event once per ``_id``; returns (stored, duplicates)."""
        stored, duplicates = self.events.add(analytic_id, events)
        if stored and self.sink is not None:
            self.sink.track(self.key, analytic_id, self.events.last_received, self.events.last_rows)
        return stored, duplicates

    def add_response(self, body: dict[str, Any]) -> dict[str, Any]:
        response = dict(body)
        response["_id"] = body.get("_id") or object_id(self.key, "response", str(len(self.responses)))
        response["received_at"] = now_iso()
        self.responses.append(response)
        if self.sink is not None:
            self.sink.add_response(self.key, response)
        return response

    def add_push_token(self, analytic_id: str, token: str, at: float | None = None) -> dict[str, Any]:
        at = time.time() if at is None else at
        user = self.users.get(analytic_id) or self._new_user(analytic_id, analytic_id, at)
        if token not in user["push_tokens"]:
            user["push_tokens"].append(token)
        if self.sink is not None:
            self.sink.add_push_token(self.key, analytic_id, token, at)
        return user


class StaleView(Exception):
    """This instance's copy of what admin writes set (projects, faults, stubs, content) was older
    than the shared store's when an operation ran; it reloaded it, and the request is answered again."""


class Store:
    """Projects plus their state, guarded by one lock; :meth:`reset` restores the loaded file.

    This is the in-memory way to keep state (see :mod:`mock_1flow.server.state`); with a
    ``sink`` attached every change is also told to it, in order, under the lock.
    """

    def __init__(
        self, config: ProjectsConfig, event_cap: int = DEFAULT_EVENT_CAP, event_max_bytes: int = DEFAULT_EVENT_MAX_BYTES
    ) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.event_cap = event_cap
        self.event_max_bytes = event_max_bytes
        self.event_budget = EventBudget(event_cap, event_max_bytes)
        self.plans: dict[str, Plan] = {}
        self.projects: dict[str, Project] = {}
        self.sources: dict[str, Source] = {}
        self.states: dict[str, ProjectState] = {}
        self.sink: StateSink | None = None
        self.reset()

    # A request's view of the state: no-ops here (one process holds it all); the Redis store
    # checks its copy of the admin state against Redis's within the operation's own script.
    def begin(self, restart: bool = True) -> None:
        """An SDK request starts (``restart``: a stale view may raise :class:`StaleView`)."""

    def end(self) -> None:
        """The SDK request is answered."""

    def enter(self, operation_id: str) -> None:
        """The request runs ``operation_id`` (after faults and stubs, before the key check)."""

    def stale(self) -> bool:
        """An error answer is about to go out: True when it was computed from an outdated view."""
        return False

    def stub_set(self, body_limit: int) -> "StubSet":
        """The stubs' set for this store (the Redis store counts their hits in Redis)."""
        from .stubs import StubSet

        return StubSet(body_limit)

    def attach(self, sink: "StateSink | None") -> None:
        """From now on tell ``sink`` every change (None: memory only)."""
        with self.lock:
            self.sink = sink
            for state in self.states.values():
                state.sink = sink

    def reset(self) -> None:
        with self.lock:
            self.plans = dict(self.config.plans)
            self.projects = dict(self.config.projects)
            self.sources = dict(self.config.sources)
            for state in self.states.values():
                self.event_budget.release(state.events)
            self.states = {}
            self.event_budget = EventBudget(self.event_cap, self.event_max_bytes)
            if self.sink is not None:
                self.sink.reset()

    def state(self, key: str) -> ProjectState:
        with self.lock:
            state = self.states.get(key)
            if state is None:
                state = self.states[key] = ProjectState(key, events=EventLog(self.event_budget), sink=self.sink)
            return state

    def put_project(self, project: Project) -> None:
        with self.lock:
            self.projects[project.key] = project

    def clear_state(self, key: str) -> None:
        """Forget what the project received; the project itself stays."""
        with self.lock:
            state = self.states.pop(key, None)
            if state is not None:
                self.event_budget.release(state.events)
            if self.sink is not None:
                self.sink.clear(key)

    def delete_project(self, key: str) -> bool:
        with self.lock:
            self.clear_state(key)
            return self.projects.pop(key, None) is not None

    def replace(self, projects: dict[str, Project], states: dict[str, ProjectState], budget: EventBudget) -> None:
        """Swap in a whole new state at once (a ``PUT /__admin/state`` that passed every check):
        ``states`` were built on ``budget``, which becomes the store's."""
        with self.lock:
            for old in self.states.values():
                self.event_budget.release(old.events)
            self.projects = projects
            self.states = states
            self.event_budget = budget
            for state in states.values():
                state.sink = self.sink
            if self.sink is not None:
                self.sink.replaced()
