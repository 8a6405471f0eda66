"""Stubs (WireMock's stub mappings): answers of the user's own for matching requests.

A stub matches on method, path glob, project, region, header and query globs and a JSON
body the request must contain; it answers a status with JSON, text or no body, or drops the
connection. Among matching stubs the lowest ``priority`` answers (1 first, default 5, as
WireMock), then the newest. ``times`` limits how many requests it answers.

This module knows no server: :mod:`.hotpath` (SDK API) and :mod:`.stub_hooks` (Flask
routes) ask :meth:`StubSet.pick` for a stub and send :class:`Stub`'s answer.
"""

from __future__ import annotations

import difflib
import fnmatch
import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple, Sequence
from urllib.parse import parse_qsl

from .journal import DEFAULT_JOURNAL_BODY_MAX
from .response_check import OffSpec, off_spec
from .routes.common import dumps
from .spec import load_spec
from .validation import MalformedJson, operation_validators, parse_json

DEFAULT_PRIORITY = 5  # WireMock's default (https://wiremock.org/docs/stubbing/#stub-priority)
MAX_STUBS = 1000  # each holds up to three bodies of the journal's body limit: memory stays bounded
NO_BODY_STATUSES = (204, 304)
FRAMING_HEADERS = ("content-length", "transfer-encoding", "connection")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
ID = re.compile(r"^stub-(\d+)$")
DROPPED_FRAGMENT = b'{"success":'


class StubError(ValueError):
    """A stub the mock refuses: ``pointer`` (JSON pointer in the stub) and what to write instead."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer or '(root)'}: {message}")
        self.pointer, self.message = pointer, message


def _glob(pattern: str) -> Callable[[str], bool]:
    """A compiled ``fnmatch`` glob (case-sensitive); a pattern without wildcards is a plain comparison."""
    if not any(char in pattern for char in "*?["):
        return pattern.__eq__
    match = re.compile(fnmatch.translate(pattern)).match
    return lambda text: match(text) is not None


def _fold(name: str) -> str:
    """Header names compare in any case, dash and underscore alike (servers differ in which they keep)."""
    return name.lower().replace("_", "-")


@dataclass
class Stub:
    """One stub, compiled for matching; :meth:`as_dict` is its ``GET /__admin/stubs`` form."""

    id: str
    request: dict[str, Any]
    response: dict[str, Any]
    times: int | None = None
    priority: int = DEFAULT_PRIORITY
    after_gate: bool = False
    hits: int = 0
    seq: int = 0
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    drop: bool = False
    _checked: dict[str | None, OffSpec | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        rule = self.request
        self._method = rule["method"].upper() if "method" in rule else None
        path = rule.get("path", "*")
        self._path = None if path == "*" else _glob(path)
        self._project, self._region = rule.get("project"), rule.get("region")
        self._headers = [(_fold(name), _glob(glob)) for name, glob in (rule.get("headers") or {}).items()]
        self._query = [(name, _glob(glob)) for name, glob in (rule.get("query") or {}).items()]
        self._json = rule.get("json")
        answer = self.response
        self.drop = bool(answer.get("drop_connection"))
        self.status = answer.get("status", 200)
        if "json" in answer:
            self.body, kind = dumps(answer["json"]), "application/json"
        elif "body" in answer:
            self.body, kind = answer["body"].encode("utf-8"), "text/plain; charset=utf-8"
        else:
            self.body, kind = b"", None
        given = list((answer.get("headers") or {}).items())
        if kind and not any(name.lower() == "content-type" for name, _ in given):
            given.insert(0, ("Content-Type", kind))
        self.headers = [*given, ("Content-Length", str(len(self.body)))]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hits": self.hits, "request": self.request, "response": self.response,
                "times": self.times, "priority": self.priority, "after_gate": self.after_gate}

    @property
    def project(self) -> str | None:
        return self._project

    def matches(self, method: str, api_path: str, full_path: str, project: str | None, region: str | None,
                headers: Iterable[tuple[str, str]], query: str, body: "_Body") -> bool:
        if self._method is not None and self._method != method:
            return False
        if self._path is not None and not (self._path(api_path) or self._path(full_path)):
            return False
        if (self._project is not None and self._project != project) or (self._region is not None and self._region != region):
            return False
        if self._headers:
            have = {_fold(name): value for name, value in headers}
            if not all(name in have and glob(have[name]) for name, glob in self._headers):
                return False
        if self._query:
            given: dict[str, str] = {}
            for name, value in parse_qsl(query, keep_blank_values=True):
                given.setdefault(name, value)
            if not all(name in given and glob(given[name]) for name, glob in self._query):
                return False
        return self._json is None or contains(self._json, body.json())

    def off_spec(self, operation_id: str | None, method: str, path: str) -> OffSpec | None:
        """Whether this answer breaks ``operation_id``'s response schema (remembered per operation)."""
        if self.drop:
            return None
        if operation_id not in self._checked:
            self._checked[operation_id] = off_spec(operation_id, method, path, self.status, self.body)
        return self._checked[operation_id]


class Scope(NamedTuple):
    """What a stub matches a request to a Flask route on: its region, path after the API base,
    project, the spec's operation (None if none serves it), and whether it passes the gate."""

    region: str | None
    api_path: str
    project: str | None
    operation_id: str | None
    gate: Callable[[], bool]


RawBody = bytes | None | Callable[[], bytes | None]


class _Body:
    """The request body (or what reads it), parsed as JSON at most once and only if a stub asks."""

    __slots__ = ("raw", "_parsed", "_done")

    def __init__(self, raw: RawBody) -> None:
        self.raw, self._parsed, self._done = raw, None, False

    def json(self) -> Any:
        if not self._done:
            self._done = True
            raw = self.raw() if callable(self.raw) else self.raw
            try:
                self._parsed = parse_json(raw) if raw else None
            except (MalformedJson, UnicodeDecodeError):
                self._parsed = None
        return self._parsed


def contains(pattern: Any, value: Any) -> bool:
    """``value`` contains ``pattern``: every key of an object with a matching value, each item
    of a list in some item of the value's list, scalars equal (``true`` is not ``1``)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(key in value and contains(item, value[key]) for key, item in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(contains(item, candidate) for candidate in value) for item in pattern)
    if isinstance(pattern, bool) or isinstance(value, bool):
        return type(pattern) is type(value) and pattern == value
    return type(value) is not list and type(value) is not dict and pattern == value


# -- checking a stub ------------------------------------------------------------------------


def _known_fields(schema_path: list[Any]) -> list[str]:
    node: Any = load_spec()
    for part in schema_path[:-1]:
        node = node[part]
    return sorted(node.get("properties", {}))


def _schema_error(spec: Any, prefix: str) -> StubError | None:
    validator = operation_validators()["adminAddStub"].body_validator
    assert validator is not None  # the spec gives adminAddStub a body
    error = next(iter(validator.iter_errors(spec)), None)
    if error is None:
        return None
    parts = [str(part) for part in error.instance_path]
    pointer = prefix + "".join(f"/{part}" for part in parts)
    kind = type(error.kind).__name__
    if kind == "AdditionalProperties":
        known = _known_fields(list(error.schema_path))
        unknown = getattr(error.kind, "unexpected")[0]
        close = difflib.get_close_matches(unknown, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return StubError(f"{pointer}/{unknown}", f"unknown field '{unknown}'; {hint}known here: {', '.join(known)}")
    if kind == "Required":
        return StubError(f"{pointer}/{getattr(error.kind, 'property')}", f"{error.message}; a stub needs at least "
                         '{"response": {"status": 200, "json": {...}}}')
    return StubError(pointer, f"{error.message} (see StubSpec in /openapi.yaml)")


def check_stub(spec: Any, body_limit: int, prefix: str = "") -> dict[str, Any]:
    """A stub spec checked against the spec's ``StubSpec`` and the rules a schema cannot say;
    raises :class:`StubError` with the pointer and what to write instead. Returns ``spec``."""
    problem = _schema_error(spec, prefix)
    if problem is not None:
        raise problem
    answer, rule = spec["response"], spec.get("request") or {}
    if answer.get("drop_connection"):
        extra = [name for name in ("status", "json", "body", "headers") if name in answer]
        if extra:
            raise StubError(f"{prefix}/response/{extra[0]}", "a dropped connection sends no answer; remove "
                            f"{', '.join(extra)} or set drop_connection to false")
    if "json" in answer and "body" in answer:
        raise StubError(f"{prefix}/response/body", "give either json (a JSON document) or body (text), not both")
    status = answer.get("status", 200)
    if status in NO_BODY_STATUSES and ("json" in answer or "body" in answer):
        raise StubError(f"{prefix}/response/status", f"a {status} has no body; remove json/body or answer 200")
    for name, value in (answer.get("headers") or {}).items():
        where = f"{prefix}/response/headers/{name.replace('~', '~0').replace('/', '~1')}"
        if not TOKEN.match(name):
            raise StubError(where, f"'{name}' is not a header name (letters, digits and !#$%&'*+.^_`|~-)")
        if name.lower() in FRAMING_HEADERS:
            raise StubError(where, f"the mock sets {name} itself from the body; remove it")
        if "\r" in value or "\n" in value or "\0" in value:
            raise StubError(where, "a header value cannot hold CR, LF or NUL; write it on one line")
    sized = [("/request/json", dumps(rule["json"]) if "json" in rule else b""),
             ("/response/json", dumps(answer["json"]) if "json" in answer else b""),
             ("/response/body", answer.get("body", "").encode("utf-8"))]
    for pointer, data in sized:
        if len(data) > body_limit:
            raise StubError(prefix + pointer, f"{len(data)} bytes is over the journal's body limit of {body_limit} "
                            "bytes (serve --journal-body-max); make it smaller")
    return spec


def build_stub(spec: dict[str, Any], stub_id: str, seq: int, hits: int = 0) -> Stub:
    return Stub(id=stub_id, request=dict(spec.get("request") or {}), response=dict(spec["response"]),
                times=spec.get("times"), priority=spec.get("priority", DEFAULT_PRIORITY),
                after_gate=spec.get("after_gate", False), hits=hits, seq=seq)


# -- the set --------------------------------------------------------------------------------


class StubSet:
    """The stubs in force, thread-safe. ``before`` and ``after`` (after the gate) are the
    stubs in match order, replaced whole on each change, so an empty set costs a request one
    truthiness test."""

    def __init__(self, body_limit: int = DEFAULT_JOURNAL_BODY_MAX) -> None:
        self.body_limit = body_limit
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._stubs: list[Stub] = []
        self.before: tuple[Stub, ...] = ()
        self.after: tuple[Stub, ...] = ()
        # How a Flask route's request is scoped (an API on Flask may register its own): each
        # returns a Scope, or None when the request is not its API's.
        self.scopes: list[Callable[[Any, Any], Scope | None]] = []

    def _publish(self) -> None:
        ordered = sorted(self._stubs, key=lambda stub: (stub.priority, -stub.seq))
        self._stubs = ordered
        self.before = tuple(stub for stub in ordered if not stub.after_gate)
        self.after = tuple(stub for stub in ordered if stub.after_gate)

    def add(self, spec: Any) -> Stub:
        """Check and add one stub; raises :class:`StubError` (nothing added)."""
        check_stub(spec, self.body_limit)
        with self._lock:
            if len(self._stubs) >= MAX_STUBS:
                raise StubError("", f"the mock holds at most {MAX_STUBS} stubs; DELETE /__admin/stubs/{{id}} some first")
            stub = build_stub(spec, f"stub-{next(self._ids)}", next(self._seq))
            self._stubs.append(stub)
            self._publish()
            return stub

    def remove(self, stub_id: str) -> bool:
        with self._lock:
            kept = [stub for stub in self._stubs if stub.id != stub_id]
            removed = len(kept) != len(self._stubs)
            self._stubs = kept
            self._publish()
            return removed

    def clear(self, project: str | None = None) -> None:
        """Drop every stub, or only those scoped to ``project`` (a per-project reset)."""
        with self._lock:
            self._stubs = [] if project is None else [stub for stub in self._stubs if stub.project != project]
            self._publish()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [stub.as_dict() for stub in self._stubs]

    def replace(self, stubs: Sequence[Stub]) -> None:
        """Put ``stubs`` (from :func:`stubs_from_list`) in force instead of the current ones."""
        with self._lock:
            self._stubs = list(stubs)
            numbers = [int(found.group(1)) for stub in stubs if (found := ID.match(stub.id))]
            self._ids = itertools.count(max(numbers, default=0) + 1)
            self._seq = itertools.count(max((stub.seq for stub in stubs), default=0) + 1)
            self._publish()

    def pick(self, after_gate: bool, method: str, api_path: str, full_path: str, project: str | None,
             region: str | None, headers: Iterable[tuple[str, str]], query: str, body: RawBody) -> Stub | None:
        """The stub that answers this request (its hit counted), or None."""
        candidates = self.after if after_gate else self.before
        if not candidates:
            return None
        lazy = _Body(body)
        for stub in candidates:
            if stub.times is not None and stub.hits >= stub.times:
                continue
            if not stub.matches(method, api_path, full_path, project, region, headers, query, lazy):
                continue
            if self._take(stub):
                return stub
        return None

    def _take(self, stub: Stub) -> bool:
        """Count a hit of a matching stub; False when its ``times`` were spent meanwhile."""
        with self._lock:
            if stub.times is not None and stub.hits >= stub.times:
                return False  # another thread took its last answer
            stub.hits += 1
        return True


# -- the state document and --stub FILE ----------------------------------------------------


def stubs_from_list(runtime: Any, items: list[dict[str, Any]]) -> list[Stub]:
    """The stubs of a state document's ``parts.stubs`` (``GET /__admin/stubs``'s list), checked.
    Raises :class:`StubError` (its pointer within the list); apply with :meth:`StubSet.replace`."""
    if not isinstance(items, list):
        raise StubError("", "the stubs are a list, as GET /__admin/stubs gives them")
    stubs, seen = [], set()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise StubError(f"/{index}", "each stub is an object with its 'id', as GET /__admin/stubs gives it")
        spec = {name: value for name, value in item.items() if name not in ("id", "hits")}
        check_stub(spec, runtime.stubs.body_limit, f"/{index}")
        if item["id"] in seen:
            raise StubError(f"/{index}/id", f"the id '{item['id']}' is used twice; give each stub its own")
        seen.add(item["id"])
        stubs.append(build_stub(spec, item["id"], len(items) - index, item.get("hits", 0)))
    return stubs


class StubsPart:
    """The stubs as a state part (``parts.stubs`` of the state document and the state file):
    a document without it puts back the start-up stubs, as a reset does."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def export(self) -> list[dict[str, Any]]:
        stubs: list[dict[str, Any]] = self.runtime.stubs.list()
        return stubs

    def check(self, data: Any, projects: set[str] | None = None) -> None:
        stubs_from_list(self.runtime, data)

    def load(self, data: Any) -> None:
        self.runtime.stubs.replace(stubs_from_list(self.runtime, data))

    def reset(self) -> None:
        self.runtime.stubs.clear()
        self.runtime.install_configured_stubs()


def stubs_from_text(text: str | bytes, body_limit: int) -> list[dict[str, Any]]:
    """A ``--stub`` file's JSON list of stubs (``POST /__admin/stubs`` bodies), each checked."""
    try:
        specs = parse_json(text)
    except (MalformedJson, UnicodeDecodeError) as exc:
        raise StubError("", f"not valid JSON ({exc})") from None
    if isinstance(specs, dict):
        specs = [specs]
    if not isinstance(specs, list):
        raise StubError("", "a stub file holds a JSON list of stubs, as POST /__admin/stubs takes them")
    for index, spec in enumerate(specs):
        check_stub(spec, body_limit, f"/{index}")
    return specs
