"""The state document (``GET``/``PUT /__admin/state``, the spec's ``StateSnapshot``), streamed
both ways.

Export writes from a :func:`~.copy.take` copy in chunks, so the store's lock is held only
while copying and memory grows by the chunk being written, not by the document. Import
reads the document piece by piece (ijson): each project, user, event and response is
checked against its schema in the spec as it arrives and put into a *new* store; the
store's invariants are checked at the end, and only then is the new state swapped in, so
a refused document changes nothing. The events a document may hold are bounded by the
store's caps (``--event-cap``, ``--event-max-bytes``): a document past them is refused,
so an import holds at most the caps' worth of events beside the live ones.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import IO, Any, Iterator

import ijson
import jsonschema_rs

from ..events import EventBudget, EventLog, _pack, stored_events
from ..projects import Project
from ..routes.common import dumps
from ..spec import load_spec
from ..store import ProjectState, Store
from ..validation import parse_json
from . import StateParts
from .copy import USER_DEFAULTS, StateCopy

VERSION = 1
EVENTS_PER_CHUNK = 2000
HEX_ID = re.compile(r"[0-9a-f]{24}")


LIST_BEGINS = object()
"""What :func:`pieces` gives for ``("projects",)``: the list begins (its items follow)."""


class DocumentError(ValueError):
    """The document cannot be loaded; ``pointer`` says where (a JSON pointer), the message why."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer or '(root)'}: {message}")
        self.pointer = pointer
        self.reason = message


def pointer(*parts: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


# -- export -------------------------------------------------------------------------


def export_chunks(copy: StateCopy) -> Iterator[bytes]:
    """The document as bytes, in chunks (the events of one chunk: :data:`EVENTS_PER_CHUNK`)."""
    head: dict[str, Any] = {"version": VERSION, "projects": copy.projects}
    if copy.parts:
        head["parts"] = copy.parts
    yield dumps(head)[:-1] + b',"state":{'
    for number, state in enumerate(copy.states):
        data = {"users": state.users, "devices": state.devices, "app_users": state.app_users,
                "responses": state.responses, "sessions": state.sessions}
        yield (b"," if number else b"") + dumps(state.key) + b":" + dumps(data)[:-1] + b',"events":['
        batch: list[dict[str, Any]] = []
        first = True
        for caller, received, rows in zip(state.callers, state.received, state.rows):
            batch.extend(stored_events(caller, received, parse_json(rows)))
            if len(batch) >= EVENTS_PER_CHUNK:
                yield (b"" if first else b",") + dumps(batch)[1:-1]
                batch, first = [], False
        if batch:
            yield (b"" if first else b",") + dumps(batch)[1:-1]
        yield b"]}"
    yield b"}}"


def export_document(copy: StateCopy) -> dict[str, Any]:
    """The document as data (tests, small states)."""
    return parse_json(b"".join(export_chunks(copy)))


# -- import -------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _validator(*path: str) -> Any:
    spec = load_spec()
    return jsonschema_rs.Draft202012Validator({"$ref": "#/components/schemas/" + "/".join(path), "components": spec["components"]})


@lru_cache(maxsize=None)
def _fields(schema: str) -> frozenset[str]:
    return frozenset(load_spec()["components"]["schemas"][schema]["properties"])


def _check(value: Any, where: tuple[Any, ...], *schema: str) -> None:
    error = next(iter(_validator(*schema).iter_errors(value)), None)
    if error is not None:
        raise DocumentError(pointer(*where, *error.instance_path), error.message)


class Importer:
    """Builds a new state from the document's pieces, then swaps it in (:meth:`apply`)."""

    def __init__(self, store: Store, parts: StateParts, regions: tuple[str, ...]) -> None:
        self.store = store
        self.parts = parts
        self.regions = regions
        self.budget = EventBudget(store.event_cap, store.event_max_bytes)
        self.projects: dict[str, Project] = {}
        self.states: dict[str, ProjectState] = {}
        self.owner: dict[str, dict[str, tuple[str, int]]] = {}  # per project: device -> (user, its index)
        self.pending: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}  # per project: a call being gathered
        self.part_data: dict[str, Any] = {}
        self.seen: set[str] = set()
        self.event_count = 0

    def state(self, key: str) -> ProjectState:
        state = self.states.get(key)
        if state is None:
            state = self.states[key] = ProjectState(key, events=EventLog(self.budget))
            self.owner[key] = {}
        return state

    def piece(self, path: tuple[Any, ...], value: Any) -> None:
        """One piece of the document at ``path`` (see :func:`pieces`)."""
        top = path[0]
        self.seen.add(top)
        if top == "version":
            _check(value, path, "StateSnapshot", "properties", "version")
        elif top == "projects":
            if len(path) > 1:
                self.project(path, value)
            elif value is not LIST_BEGINS:
                raise DocumentError(pointer("projects"), "'projects' is a list of projects, as GET /__admin/state gives it")
        elif top == "parts":
            _check(value, path, "StateSnapshot", "properties", "parts")
            self.part_data = value
        elif top == "state":
            if len(path) == 1:
                raise DocumentError(pointer("state"), "'state' is an object: project key -> that project's data")
            self.data(path, value)
        else:
            raise DocumentError(pointer(top), f"unknown field '{top}' (a state document has: {', '.join(sorted(_fields('StateSnapshot')))})")

    def project(self, path: tuple[Any, ...], value: Any) -> None:
        _check(value, path, "StateSnapshot", "properties", "projects", "items")
        key = value["key"]
        if key in self.projects:
            raise DocumentError(pointer(*path, "key"), f"project '{key}' is listed twice")
        if value["plan"] not in self.store.plans:
            raise DocumentError(pointer(*path, "plan"), f"project '{key}' has plan '{value['plan']}', which this mock "
                                f"does not have (plans: {', '.join(self.store.plans)})")
        if value["region"] not in self.regions:
            raise DocumentError(pointer(*path, "region"), f"unknown region '{value['region']}' "
                                f"(this mock has: {', '.join(self.regions)})")
        self.projects[key] = Project(key=key, name=value["name"], region=value["region"], plan=value["plan"])

    def data(self, path: tuple[Any, ...], value: Any) -> None:
        if len(path) == 2:
            if path[1] in self.states:
                raise DocumentError(pointer(*path), f"project '{path[1]}' has its data listed twice")
            self.state(path[1])
            return
        key, field = path[1], path[2]
        if field not in _fields("ProjectData"):
            raise DocumentError(pointer(*path[:3]), f"unknown field '{field}' (a project's data has: "
                                f"{', '.join(sorted(_fields('ProjectData')))})")
        state = self.state(key)
        if field in ("users", "events", "responses"):
            _check(value, path, "ProjectData", "properties", field, "items")
            getattr(self, "_" + field)(state, path, value)
        else:
            _check(value, path, "ProjectData", "properties", field)
            setattr(state, field, value)

    def _users(self, state: ProjectState, path: tuple[Any, ...], user: dict[str, Any]) -> None:
        analytic_id = user["analytic_user_id"]
        if analytic_id in state.users:
            raise DocumentError(pointer(*path, "analytic_user_id"), f"user '{analytic_id}' is listed twice")
        if not HEX_ID.fullmatch(analytic_id) and not _token_only(user):
            raise DocumentError(pointer(*path, "analytic_user_id"), f"'{analytic_id}' is not an analytic id the mock "
                                "gives out (24 lowercase hex digits); only a user made by a push token for an id "
                                "the mock never gave out (no devices, not identified, system_id the same) may differ")
        owners = self.owner[state.key]
        for index, device_id in enumerate(user["device_ids"]):
            if device_id in owners and owners[device_id][0] != analytic_id:
                raise DocumentError(pointer(*path, "device_ids", index), f"device '{device_id}' also belongs to user "
                                    f"'{owners[device_id][0]}' (/users/{owners[device_id][1]}); a device has one user")
            owners[device_id] = (analytic_id, path[-1])
        state.users[analytic_id] = {**USER_DEFAULTS, **user}

    def _events(self, state: ProjectState, path: tuple[Any, ...], event: dict[str, Any]) -> None:
        log = state.events
        shard = log.ids[hash(event["_id"]) & (len(log.ids) - 1)]
        gathering = self.pending.get(state.key)
        if event["_id"] in shard or (gathering and any(e["_id"] == event["_id"] for e in gathering[2])):
            raise DocumentError(pointer(*path, "_id"), f"event '{event['_id']}' is listed twice in this project")
        self.event_count += 1
        if self.event_count > self.budget.cap:
            raise DocumentError(pointer(*path), f"more events than this mock keeps (--event-cap {self.budget.cap}); "
                                "start it with a larger --event-cap to load this")
        row = {name: event[name] for name in ("_id", "name", "time", "parameters", "plt")}
        if gathering and gathering[0] == event["user_id"] and gathering[1] == event["received_at"]:
            gathering[2].append(row)
        else:
            self._flush(state)
            self.pending[state.key] = (event["user_id"], event["received_at"], [row])
        if len(self.pending[state.key][2]) >= 100:
            self._flush(state)
        if self.budget.dropped:
            raise DocumentError(pointer(*path), f"more events than this mock keeps (--event-cap {self.budget.cap}, "
                                f"--event-max-bytes {self.budget.max_bytes}); start it with larger caps to load this")

    def _flush(self, state: ProjectState) -> None:
        gathered = self.pending.pop(state.key, None)
        if gathered:
            caller, received, rows = gathered
            state.events.add_call(caller, received, _pack(rows), rows)

    def _responses(self, state: ProjectState, path: tuple[Any, ...], response: dict[str, Any]) -> None:
        state.responses.append(response)

    def finish(self) -> None:
        """Whole-document checks; raises :class:`DocumentError`."""
        if "projects" not in self.seen:
            raise DocumentError("", "'projects' is a required property")
        for key, state in self.states.items():
            self._flush(state)
            if self.budget.dropped:
                raise DocumentError(pointer("state", key, "events"), f"more events than this mock keeps (--event-cap "
                                    f"{self.budget.cap}, --event-max-bytes {self.budget.max_bytes})")
            if key not in self.projects:
                raise DocumentError(pointer("state", key), f"state for project '{key}', which 'projects' does not list")
            self._links(key, state)
        try:
            self.parts.check(self.part_data, set(self.projects))
        except ValueError as exc:
            raise DocumentError(str(exc).partition(":")[0], str(exc).partition(": ")[2]) from None

    def _links(self, key: str, state: ProjectState) -> None:
        owners = self.owner[key]
        for device_id, analytic_id in state.devices.items():
            if analytic_id not in state.users:
                raise DocumentError(pointer("state", key, "devices", device_id), f"names user '{analytic_id}', "
                                    "which 'users' does not list")
            if owners.get(device_id, (analytic_id,))[0] != analytic_id:
                raise DocumentError(pointer("state", key, "devices", device_id), f"names user '{analytic_id}', but "
                                    f"user '{owners[device_id][0]}' lists this device")
        for device_id, (analytic_id, index) in owners.items():
            if state.devices.get(device_id) != analytic_id:
                raise DocumentError(pointer("state", key, "users", index, "device_ids"), f"device '{device_id}' is "
                                    f"not in 'devices' as this user's")
        for app_user_id, analytic_id in state.app_users.items():
            user = state.users.get(analytic_id)
            if user is None or user["user_id"] != app_user_id or not user["identified"]:
                raise DocumentError(pointer("state", key, "app_users", app_user_id), f"names user '{analytic_id}', "
                                    f"which is not listed as identified app user '{app_user_id}'")
        for index, user in enumerate(state.users.values()):
            if user["identified"] and user["user_id"] is not None and state.app_users.get(user["user_id"]) != user["analytic_user_id"]:
                raise DocumentError(pointer("state", key, "users", index, "user_id"), f"identified app user "
                                    f"'{user['user_id']}' is not in 'app_users' as this user's")

    def apply(self) -> None:
        """Swap the new state in (after :meth:`finish`)."""
        self.store.replace(self.projects, self.states, self.budget)
        self.parts.load(self.part_data)


def _token_only(user: dict[str, Any]) -> bool:
    return not user["device_ids"] and not user["identified"] and user["system_id"] == user["analytic_user_id"]


def pieces(stream: IO[bytes], backend: Any = ijson) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """The document's pieces, each built whole: ``("version",)``, ``("projects",)`` (None: the
    list begins), ``("projects", i)``,
    ``("parts",)``, ``("state", key)`` (None: a project's data begins), ``("state", key, field)`` for a project's devices, app_users and
    sessions, and ``("state", key, field, i)`` for each user, event and response.
    Raises :class:`DocumentError` for a document not shaped that way and ``ValueError``
    (from ijson) for malformed JSON."""
    events = backend.basic_parse(stream, use_float=True)
    event, value = next(events, (None, None))
    if event != "start_map":
        raise DocumentError("", "the state document is a JSON object")
    for event, value in events:
        if event == "end_map":
            return
        top = value
        event, value = next(events)
        if top == "projects" and event == "start_array":
            yield ("projects",), LIST_BEGINS  # (it may be empty)
            yield from _array(events, ("projects",))
        elif top == "state" and event == "start_map":
            for event, value in events:
                if event == "end_map":
                    break
                key = value
                event, value = next(events)
                if event != "start_map":
                    raise DocumentError(pointer("state", key), "a project's data is a JSON object")
                yield ("state", key), None
                for event, value in events:
                    if event == "end_map":
                        break
                    field = value
                    event, value = next(events)
                    if field in ("users", "events", "responses") and event == "start_array":
                        yield from _array(events, ("state", key, field))
                    else:
                        yield ("state", key, field), _build(events, event, value)
        else:
            yield (top,), _build(events, event, value)


def _array(events: Iterator[tuple[str, Any]], path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    for index, (event, value) in enumerate(events):
        if event == "end_array":
            return
        yield (*path, index), _build(events, event, value)


def _build(events: Iterator[tuple[str, Any]], event: str, value: Any) -> Any:
    if event not in ("start_map", "start_array"):
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                break
    return builder.value


def load_document(stream: IO[bytes], store: Store, parts: StateParts, regions: tuple[str, ...]) -> None:
    """Replace the state with the document read from ``stream`` (a seekable file), or change
    nothing and raise :class:`DocumentError`.

    ijson's C parser stops at integers past 64 bits, which the mock keeps exactly; a
    document holding one is read again with ijson's pure-Python parser (slower, exact)."""
    start = stream.tell()
    try:
        importer = _read(stream, store, parts, regions, ijson)
    except _Overflow:
        stream.seek(start)
        importer = _read(stream, store, parts, regions, ijson.get_backend("python"))
    importer.finish()
    importer.apply()


class _Overflow(Exception):
    pass


def _read(stream: IO[bytes], store: Store, parts: StateParts, regions: tuple[str, ...], backend: Any) -> Importer:
    importer = Importer(store, parts, regions)
    try:
        for path, value in pieces(stream, backend):
            importer.piece(path, value)
    except ijson.JSONError as exc:
        if "integer overflow" in str(exc):
            raise _Overflow from None
        raise DocumentError("", f"not valid JSON ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError as exc:
        raise DocumentError("", f"not valid UTF-8 at byte {exc.start} of a string") from None
    return importer
