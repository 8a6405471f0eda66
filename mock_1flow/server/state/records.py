"""The state file's lines: one JSON array per line, its first item saying what it is.

A file is a header, then a snapshot (what :func:`snapshot_lines` writes from a
:class:`~.copy.StateCopy`), then the operations since, in the order they happened
(:class:`~mock_1flow.server.state.StateSink`'s methods, one line each). Replaying the
lines in order into a fresh store gives the state back: operations carry the time they
used, and ids are derived from their inputs.

====  =====================================================  ===========================
kind  fields                                                 written by
====  =====================================================  ===========================
P     {projects, parts}                                      snapshot, an admin write
u     key, user                                              snapshot
s     key, devices, app_users, sessions                      snapshot
t     key, user_id, received, rows (the call's events)       snapshot, ``track``
r     key, response                                          snapshot, ``add_response``
d     key, device_id, context, at                            ``add_device``
i     key, anonymous_id, app_user_id, parameters, at         ``identify``
k     key, analytic_id, token, at                            ``add_push_token``
x     key                                                    ``clear``
z                                                            ``reset``
====  =====================================================  ===========================
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import orjson

from ..events import _pack
from ..projects import Project
from ..routes.common import dumps
from ..store import ProjectState, Store
from ..validation import parse_json
from . import StateParts
from .copy import StateCopy

FORMAT = "mock-1flow state"
VERSION = 2
HEADER = dumps([FORMAT, VERSION]) + b"\n"
CHUNK_BYTES = 256 * 1024  # snapshot lines are yielded in chunks of about this size


FIELDS = {"P": 1, "u": 2, "s": 4, "t": 4, "r": 2, "d": 4, "i": 5, "k": 4, "x": 1, "z": 0}  # per kind (table above)


class RecordError(ValueError):
    """A line that cannot be replayed; the message names it."""


def line(*fields: Any) -> bytes:
    return dumps(list(fields)) + b"\n"


def track_line(key: str, user_id: str, received: float | str, rows: bytes) -> bytes:
    """A stored call; its rows are already JSON, so they are spliced in, not re-encoded."""
    return dumps(["t", key, user_id, received])[:-1] + b"," + rows + b"]\n"


def admin_line(projects: list[dict[str, Any]], parts: dict[str, Any]) -> bytes:
    return line("P", {"projects": projects, "parts": parts})


def snapshot_lines(copy: StateCopy) -> Iterator[bytes]:
    """The copied state as lines, in chunks of about :data:`CHUNK_BYTES`; stored calls in
    the order they arrived across projects, so the event cap drops the same ones after a restart."""
    yield admin_line(copy.projects, copy.parts)
    chunk: list[bytes] = []
    size = 0
    for state in copy.states:
        chunk.append(line("s", state.key, state.devices, state.app_users, state.sessions))
        for user in state.users:
            chunk.append(line("u", state.key, user))
        for response in state.responses:
            chunk.append(line("r", state.key, response))
        size += sum(len(piece) for piece in chunk)
        yield b"".join(chunk)
        chunk, size = [], 0
    order = copy.order
    if order is None:  # per project, oldest first
        order = [index for index, state in enumerate(copy.states) for _ in state.rows]
    cursors = [0] * len(copy.states)
    for index in order:
        state = copy.states[index]
        at = cursors[index]
        cursors[index] = at + 1
        piece = track_line(state.key, state.callers[at], state.received[at], state.rows[at])
        chunk.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


class Replayer:
    """Applies lines to a store (whose sink must be detached meanwhile) and its state parts."""

    def __init__(self, store: Store, parts: StateParts, regions: tuple[str, ...]) -> None:
        self.store = store
        self.parts = parts
        self.regions = regions
        self.kinds: dict[str, Callable[..., None]] = {
            "P": self._admin, "u": self._user, "s": self._summary, "t": self._track, "r": self._response,
            "d": self._device, "i": self._identify, "k": self._token, "x": store.clear_state, "z": store.reset,
        }

    def apply(self, raw: bytes) -> None:
        """One line; raises :class:`RecordError` for a line this version cannot replay."""
        try:
            record = parse_json(raw)  # exact integers of any size (orjson alone would make floats of them)
            kind, *fields = record
            if kind == "t":  # most of a file: its rows are spliced in as written, not packed again
                self._track_raw(raw, *fields)
            else:
                self.kinds[kind](*fields)
        except RecordError:
            raise
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise RecordError(f"{type(exc).__name__}: {exc}") from None

    def check(self, raw: bytes) -> None:
        """One line as :meth:`apply` would need it, without replaying data lines: JSON, a
        known kind and its number of fields; a projects line (``P``) is applied (it is
        checked against this mock's plans, regions and state parts). A stored call (most of
        a file, and what the writer splices rather than encodes) is only checked to be framed
        as one: parsing them all would cost half a replay."""
        if raw.startswith(b'["t",') and raw.endswith(b"]\n"):
            return
        try:
            record = orjson.loads(raw)  # integers past 64 bits are read as floats here: only the shape matters
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"not JSON ({exc})") from None
        if not isinstance(record, list) or not record or record[0] not in self.kinds:
            raise RecordError(f"not a record this version writes (a JSON array starting with one of "
                              f"{', '.join(self.kinds)})")
        kind = record[0]
        if len(record) - 1 != FIELDS[kind]:
            raise RecordError(f"a '{kind}' record has {FIELDS[kind]} field(s), this one {len(record) - 1}")
        if kind == "P":
            self.apply(raw)

    def _state(self, key: str) -> ProjectState:
        return self.store.state(key)

    def _admin(self, doc: dict[str, Any]) -> None:
        projects = {}
        for data in doc["projects"]:
            if data["plan"] not in self.store.plans:
                raise RecordError(f"project '{data['key']}' has plan '{data['plan']}', which this mock does not have "
                                  f"(plans: {', '.join(self.store.plans)})")
            if data["region"] not in self.regions:
                raise RecordError(f"project '{data['key']}' has region '{data['region']}', which this mock does not serve")
            projects[data["key"]] = Project(key=data["key"], name=data["name"], region=data["region"], plan=data["plan"])
        parts = doc.get("parts") or {}
        self.parts.check({name: data for name, data in parts.items() if name in self.parts}, set(projects))
        with self.store.lock:
            self.store.projects = projects
        self.parts.load({name: data for name, data in parts.items() if name in self.parts})

    def _user(self, key: str, user: dict[str, Any]) -> None:
        self._state(key).users[user["analytic_user_id"]] = user

    def _summary(self, key: str, devices: dict[str, str], app_users: dict[str, str], sessions: int) -> None:
        state = self._state(key)
        state.devices, state.app_users, state.sessions = devices, app_users, sessions

    def _track(self, key: str, user_id: str, received: float | str, rows: list[dict[str, Any]]) -> None:
        self._state(key).events.add_call(user_id, received, _pack(rows), rows)

    def _track_raw(self, raw: bytes, key: str, user_id: str, received: float | str, rows: list[dict[str, Any]]) -> None:
        """A line :func:`track_line` wrote holds the packed rows verbatim after its head: kept
        as they are (a third of the replay's time was packing them again)."""
        head = track_line(key, user_id, received, b"")[:-2]  # up to where the rows go
        packed = raw[len(head):-2] if raw.startswith(head) and raw.endswith(b"]\n") else _pack(rows)
        state = self.store.states.get(key) or self._state(key)  # no lock: replay runs before anything serves
        state.events.add_call(user_id, received, packed, rows)

    def _response(self, key: str, response: dict[str, Any]) -> None:
        self._state(key).responses.append(response)

    def _device(self, key: str, device_id: str, context: dict[str, Any] | None, at: float) -> None:
        self._state(key).add_device(device_id, context, at)

    def _identify(self, key: str, anonymous_id: str, app_user_id: str, parameters: dict[str, Any], at: float) -> None:
        self._state(key).identify(anonymous_id, app_user_id, parameters, at)

    def _token(self, key: str, analytic_id: str, token: str, at: float) -> None:
        self._state(key).add_push_token(analytic_id, token, at)
