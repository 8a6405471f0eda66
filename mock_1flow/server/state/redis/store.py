"""The store with its data in Redis: the methods and reads of
:class:`~mock_1flow.server.store.Store` and :class:`~mock_1flow.server.store.ProjectState`,
each operation one script of :mod:`.lua` (atomic across workers and instances).

Ids and timestamps are computed here exactly as the in-memory store computes them (the
derived ids in Python, ``at`` passed in), so the two stores answer the same.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import orjson

from ...events import EventBudget, _pack, stored_events
from ...projects import Project, ProjectsConfig
from ...routes.common import dumps
from ...store import ProjectState, StaleView, Store, now_iso, object_id
from ...validation import parse_json
from . import StoreStartError, StoreUnavailable, Shared, lua, shown

if TYPE_CHECKING:
    from ...events import EventLog

# The SDK operations whose script checks the instance's admin generation (lua.CHECK).
SCRIPTED = frozenset({"addUser", "identifyUser", "trackEvents", "submitSurveyResponse", "registerPushToken"})
RESPONSE_ID = "m1f-response-id-" + uuid.uuid4().hex  # replaced by the script with the derived id


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _user(reply: list[Any]) -> dict[str, Any]:
    """A user as the in-memory store keeps it, from a script's ``[HGETALL user, HGETALL params]``."""
    flat, params = reply
    fields = {_text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}
    uid = fields.get("uid")
    return {
        "analytic_user_id": _text(fields["id"]),
        "system_id": _text(fields["sys"]),
        "device_ids": orjson.loads(fields["dev"]),
        "user_id": _text(uid) if uid is not None else None,
        "identified": fields["ident"] == b"1",
        "anonymous_ids": orjson.loads(fields["anon"]),
        "parameters": {_text(params[i]): parse_json(params[i + 1]) for i in range(0, len(params), 2)},
        "context": parse_json(fields["ctx"]),
        "push_tokens": orjson.loads(fields["tok"]),
        "created_on": int(fields["created"]),
        "updated_on": int(fields["updated"]),
    }


def _received(at: float | str) -> float | str:
    """A call's receive time as the in-memory store keeps it: epoch seconds (lua.TRACK writes
    them as a string), or the text a loaded state document gave."""
    try:
        return float(at)
    except ValueError:
        return at


def prefix(key: str) -> str:
    return f"m1f:p:{key}\x1f"


def project_json(project: Project) -> bytes:
    return dumps(project.as_dict())


def project_args(projects: dict[str, Project]) -> list[Any]:
    return [item for project in projects.values() for item in (project.key, project_json(project))]


class RedisEvents:
    """A project's stored events as read from Redis (iterating yields the stored event dicts)."""

    def __init__(self, shared: Shared, key: str) -> None:
        self.shared, self.prefix = shared, prefix(key)

    def calls(self) -> tuple[list[str], list[float | str], list[bytes]]:
        raw = self.shared.call(self.shared.client.lrange, self.prefix + "c", 0, -1)
        users: list[str] = []
        received: list[float | str] = []
        rows: list[bytes] = []
        for call in raw:
            head, _, packed = call.partition(b"\n")
            caller, at, _ids = orjson.loads(head)
            users.append(caller)
            received.append(_received(at))
            rows.append(packed)
        return users, received, rows

    def _meta(self, name: str) -> int:
        return int(self.shared.call(self.shared.client.hget, self.prefix + "m", name) or 0)

    @property
    def dropped(self) -> int:
        return self._meta("dropped")

    @property
    def released(self) -> bool:
        return False

    def __len__(self) -> int:  # each stored event's id is in the dedup set, once
        return int(self.shared.call(self.shared.client.scard, self.prefix + "ids"))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for caller, at, rows in zip(*self.calls()):
            yield from stored_events(caller, at, parse_json(rows))


class RedisProjectState(ProjectState):
    """One project's data in Redis; the same operations and reads as :class:`ProjectState`."""

    def __init__(self, key: str, store: "RedisStore") -> None:  # no dataclass fields: the data is in Redis
        self.key = key
        self.shared = store.shared
        self.store = store
        self.prefix = prefix(key)
        self.sink = None

    def add_device(self, device_id: str, context: dict[str, Any] | None, at: float | None = None) -> dict[str, Any]:
        at = time.time() if at is None else at
        system = str(uuid.UUID(hashlib.md5(f"{self.key}|{device_id}".encode()).hexdigest())).upper()
        reply = self.shared.fresh("ADD_DEVICE", self.prefix, self.key, device_id, dumps(context) if context else "",
                                int(at * 1000), object_id(self.key, "device", device_id), system)
        return _user(reply)

    def analytic_id_of(self, app_user_id: str) -> str:
        return _text(self.shared.fresh("APP_USER_ID", self.prefix, app_user_id, object_id(self.key, "user", app_user_id)))

    def identify(
        self, anonymous_id: str, app_user_id: str, parameters: dict[str, Any], at: float | None = None
    ) -> tuple[dict[str, Any], str]:
        at = time.time() if at is None else at
        pairs = [item for name, value in parameters.items() for item in (name, dumps(value))]
        sessions, identified_id, reply = self.shared.fresh(
            "IDENTIFY", self.prefix, self.key, anonymous_id, app_user_id, int(at * 1000),
            object_id(self.key, "user", app_user_id), *pairs,
        )
        return _user(reply), object_id(self.key, "session", _text(identified_id), str(sessions))

    def track(self, analytic_id: str, events: list[dict[str, Any]]) -> tuple[int, int]:
        store = self.store
        ids = [event["_id"] for event in events]
        received = repr(time.time())
        call = orjson.dumps([analytic_id, received, ids]) + b"\n" + _pack(events)  # as stored when every id is new
        args = (self.prefix, self.key, analytic_id, received, store.event_cap, store.event_max_bytes, len(events), *ids, call)
        stored, duplicates = self.shared.fresh("TRACK", *args)
        if stored == -1:  # some ids were known: lua.TRACK stores the new ones' rows, sent one by one
            stored, duplicates = self.shared.fresh("TRACK", *args, *[_pack([event])[1:-1] for event in events])
        return int(stored), int(duplicates)

    def add_response(self, body: dict[str, Any]) -> dict[str, Any]:
        response = dict(body)
        given = body.get("_id")
        response["_id"] = given or RESPONSE_ID
        response["received_at"] = now_iso()
        doc = self.shared.fresh("ADD_RESPONSE", self.prefix, self.key, dumps(response), "" if given else RESPONSE_ID,
                              f"{self.key}\x1fresponse\x1f")
        return parse_json(doc)

    def add_push_token(self, analytic_id: str, token: str, at: float | None = None) -> dict[str, Any]:
        at = time.time() if at is None else at
        return _user(self.shared.fresh("PUSH_TOKEN", self.prefix, self.key, analytic_id, token, int(at * 1000)))

    # -- reads (admin API, state document) --------------------------------------------------

    @property
    def users(self) -> dict[str, dict[str, Any]]:  # type: ignore[override]
        client = self.shared.client
        aids = self.shared.call(client.zrange, self.prefix + "U", 0, -1)
        pipe = client.pipeline(transaction=False)
        for aid in aids:
            pipe.hgetall(self.prefix + "u:" + _text(aid))
            pipe.hgetall(self.prefix + "p:" + _text(aid))
        replies = self.shared.call(pipe.execute)
        users = {}
        for i in range(0, len(replies), 2):
            flat = [item for pair in replies[i].items() for item in pair]
            params = [item for pair in replies[i + 1].items() for item in pair]
            if flat:
                user = _user([flat, params])
                users[user["analytic_user_id"]] = user
        return users

    def _hash(self, name: str) -> dict[str, str]:
        found = self.shared.call(self.shared.client.hgetall, self.prefix + name)
        return {_text(k): _text(v) for k, v in found.items()}

    @property
    def devices(self) -> dict[str, str]:  # type: ignore[override]
        return self._hash("d")

    @property
    def app_users(self) -> dict[str, str]:  # type: ignore[override]
        return self._hash("a")

    @property
    def responses(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return [parse_json(doc) for doc in self.shared.call(self.shared.client.lrange, self.prefix + "r", 0, -1)]

    @property
    def sessions(self) -> int:  # type: ignore[override]
        return int(self.shared.call(self.shared.client.hget, self.prefix + "m", "sessions") or 0)

    @property
    def events(self) -> "EventLog":  # type: ignore[override]
        return RedisEvents(self.shared, self.key)  # type: ignore[return-value]


@dataclass
class RedisBudget:
    """The event caps' counters across every instance (``GET /__admin/usage``)."""

    cap: int
    max_bytes: int
    total: int
    bytes: int
    dropped: int

    def order(self) -> list["EventLog"]:
        return []


class RedisStore(Store):
    """Projects and their data in Redis. ``lock`` is kept for the callers that take it; it
    guards nothing shared (the scripts are atomic in Redis)."""

    def __init__(self, config: ProjectsConfig, shared: Shared, event_cap: int, event_max_bytes: int) -> None:
        self.config = config
        self.shared = shared
        self.lock = threading.RLock()
        self.event_cap = event_cap
        self.event_max_bytes = event_max_bytes
        self.plans = dict(config.plans)
        self.sources = dict(config.sources)
        self.sink = None
        self._projects: dict[str, Project] = dict(config.projects)
        self._states: dict[str, RedisProjectState] = {}
        self.bridge = shared.bridge  # serving.py runs the RSGI hot path through it (see .pipeline)
        self.seeded = self._seed()
        shared.on_sync.append(self.load_projects)

    def _seed(self) -> bool:
        """Seed an empty Redis from the projects file; True when this call did. A Redis holding
        another layout is refused (:class:`StoreStartError`)."""
        try:
            found, seeded = self.shared.run("SEED", lua.SCHEMA, *project_args(self.config.projects))
        except StoreUnavailable as exc:
            raise StoreStartError(exc.message) from None
        if _text(found) != lua.SCHEMA:
            raise StoreStartError(
                f"Redis at {shown(self.shared.url)} holds mock-1flow state of schema version '{_text(found)}'; this "
                f"mock-1flow uses '{lua.SCHEMA}'. Point --store at another database (redis://HOST:PORT/N) or empty "
                "this one (redis-cli -n N FLUSHDB)."
            )
        return bool(seeded)

    def load_projects(self) -> None:
        client = self.shared.client
        pipe = client.pipeline(transaction=False)
        pipe.lrange("m1f:plist", 0, -1)
        pipe.hgetall("m1f:projects")
        order, found = self.shared.call(pipe.execute)
        projects = {}
        for key in order:
            data = found.get(key)
            if data is not None:
                project = Project(**orjson.loads(data))
                projects[project.key] = project
        self._projects = projects

    @property
    def projects(self) -> dict[str, Project]:  # type: ignore[override]
        """The projects as of the last sync (an SDK operation's script checks they are current);
        raises 503 while Redis is lost."""
        self.shared.check()
        return self._projects

    @property
    def states(self) -> dict[str, ProjectState]:  # type: ignore[override]
        keys = sorted(_text(key) for key in self.shared.call(self.shared.client.smembers, "m1f:keys"))
        return {key: self.state(key) for key in keys}

    @property
    def event_budget(self) -> EventBudget:  # type: ignore[override]
        total, size, dropped = self.shared.call(self.shared.client.hmget, "m1f:ev", "total", "bytes", "dropped")
        return RedisBudget(self.event_cap, self.event_max_bytes, int(total or 0), int(size or 0),  # type: ignore[return-value]
                           int(dropped or 0))

    # -- an SDK request's view (see Store.begin) --------------------------------------------

    def begin(self, restart: bool = True) -> None:
        local = self.shared.local
        local.restart, local.confirmed = restart, False  # journal_id: taken by the journal's record

    def end(self) -> None:
        self.shared.local.restart = False

    def enter(self, operation_id: str) -> None:
        """A scripted operation checks the view in its own round trip; any other (the content
        reads) syncs first, as does every request while Redis was last seen lost."""
        shared = self.shared
        if operation_id not in SCRIPTED or shared.broken is not None:
            if shared.sync(reserve=True) and getattr(shared.local, "restart", False):
                raise StaleView
            shared.check()

    def stale(self) -> bool:
        shared = self.shared
        if getattr(shared.local, "confirmed", False):
            return False
        return shared.sync(reserve=True) and getattr(shared.local, "restart", False)

    def stub_set(self, body_limit: int) -> Any:
        from .stubs import RedisStubSet

        return RedisStubSet(self.shared, body_limit)

    def attach(self, sink: Any) -> None:
        raise TypeError("the Redis store takes no sink: its state is already durable in Redis")

    def reset(self) -> None:
        gen = self.shared.run("RESET", lua.SCHEMA, *project_args(self.config.projects))
        self._projects = dict(self.config.projects)
        self.shared.broken = None
        self.shared.wrote(gen)

    def state(self, key: str) -> ProjectState:
        state = self._states.get(key)
        if state is None:
            if len(self._states) > 4096:
                self._states.clear()
            state = self._states[key] = RedisProjectState(key, self)
        return state

    def put_project(self, project: Project) -> None:
        self.shared.wrote(self.shared.run("PUT_PROJECT", project.key, project_json(project)))
        self._projects = {**self._projects, project.key: project}

    def clear_state(self, key: str) -> None:
        self.shared.run("CLEAR", prefix(key), key)

    def delete_project(self, key: str) -> bool:
        self.clear_state(key)
        gone = self.shared.run("DELETE_PROJECT", key)
        self._projects = {k: p for k, p in self._projects.items() if k != key}
        self.shared.gen = -1  # reload at the next request
        return bool(gone)

    def replace(self, projects: dict[str, Project], states: dict[str, ProjectState], budget: EventBudget) -> None:
        """``PUT /__admin/state``: the document (read and checked in memory, as without
        ``--store``) written in one MULTI/EXEC: every instance sees the old state or the new
        one, never a mix. Projects are replaced and the generation moves, so every instance
        reloads them."""
        shared = self.shared
        pipe = shared.client.pipeline(transaction=True)
        pipe.evalsha(shared.shas["WIPE_DATA"], 0)
        total = size_total = 0
        for key, state in states.items():
            written = _write_state(pipe, key, state)
            total += written[0]
            size_total += written[1]
        pipe.hset("m1f:ev", mapping={"total": total, "bytes": size_total, "dropped": budget.dropped})
        pipe.evalsha(shared.shas["REPLACE_PROJECTS"], 0, *project_args(projects))
        try:
            shared.call(shared.client.script_load, lua.WIPE_DATA)  # a Redis restarted since start has no scripts
            shared.call(shared.client.script_load, lua.REPLACE_PROJECTS)
            replies = shared.call(pipe.execute)
        except shared.response_error as exc:
            if lua.FLUSHED in str(exc):
                raise shared.flushed() from None
            raise
        self._projects = dict(projects)
        shared.wrote(int(replies[-1]))


def _write_state(pipe: Any, key: str, state: ProjectState) -> tuple[int, int]:
    """Queue the writes that hold one project's data as the scripts of :mod:`.lua` keep it;
    returns the events written and their bytes (the caps' measure, as lua.TRACK counts)."""
    P = prefix(key)
    pipe.sadd("m1f:keys", key)
    for seq, user in enumerate(state.users.values(), 1):
        aid = user["analytic_user_id"]
        fields = {"id": aid, "sys": user["system_id"], "ident": "1" if user["identified"] else "0",
                  "ctx": dumps(user.get("context")), "created": user["created_on"], "updated": user["updated_on"],
                  "dev": dumps(user["device_ids"]), "anon": dumps(user["anonymous_ids"]), "tok": dumps(user["push_tokens"])}
        if user.get("user_id") is not None:
            fields["uid"] = user["user_id"]
        pipe.hset(P + "u:" + aid, mapping=fields)
        if user["parameters"]:
            pipe.hset(P + "p:" + aid, mapping={name: dumps(value) for name, value in user["parameters"].items()})
        pipe.zadd(P + "U", {aid: seq})
    if state.devices:
        pipe.hset(P + "d", mapping=state.devices)
    if state.app_users:
        pipe.hset(P + "a", mapping=state.app_users)
    for response in state.responses:
        pipe.rpush(P + "r", dumps(response))
    count = size_total = 0
    events = state.events
    for caller, received, ids, rows in zip(events.users, events.times, events.call_ids, events.rows):
        pipe.rpush(P + "c", dumps([caller, received, list(ids)]) + b"\n" + rows)
        if ids:
            pipe.sadd(P + "ids", *ids)
        pipe.rpush("m1f:order", key)
        count += len(ids)
        size_total += len(rows) + len(caller.encode()) + 120 + 150 * len(ids)
    pipe.hset(P + "m", mapping={"sessions": state.sessions, "seq": len(state.users),
                                "bytes": size_total, "dropped": events.dropped})
    return count, size_total
