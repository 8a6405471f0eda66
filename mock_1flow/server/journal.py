"""The request journal (WireMock-style): what each API request was and how it was answered.

Entries are immutable tuples holding the request and response bodies as the raw bytes
that crossed the wire; they are decoded only when read. That keeps recording cheap and
keeps the collector away: a tuple of strings and bytes is untracked by CPython's GC, so a
full journal adds no GC pauses. The journal is bounded twice, by entry count (``cap``) and
by total bytes (``max_bytes``); entries pushed out by either are counted in ``dropped``.
A body longer than ``body_max`` is kept truncated and flagged (``body_truncated``).
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import itertools
import operator
import re
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, NamedTuple

DEFAULT_JOURNAL_CAP = 10_000
DEFAULT_JOURNAL_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_JOURNAL_BODY_MAX = 64 * 1024
DEFAULT_REDACTED_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
REDACTED = "[redacted]"
ENTRY_OVERHEAD_BYTES = 400  # the tuple, its small fields and the deque slot, roughly
HEADER_BYTES = 100  # one header pair, roughly (an estimate: summing lengths costs more than the rest)

Headers = tuple[tuple[str, str], ...]


class Entry(NamedTuple):
    """One journaled request; ``body`` and ``response`` are raw bytes (or None)."""

    id: int
    time: float
    method: str
    path: str
    query: str
    region: str | None
    project: str | None
    status: int
    error: str | None
    body: bytes | None
    response: bytes | None
    fault: str | None
    via: str | None
    delivery: Any
    duration_ms: float
    request_headers: Headers
    response_headers: Headers
    body_truncated: bool
    warning: str | None
    ignored_query: tuple[str, ...]
    size: int
    stub: str | None = None
    off_spec: tuple[str, str] | None = None
    violations: tuple[dict[str, str], ...] | None = None  # mock-1flow proxy: where the exchange breaks the spec
    body_json: bool = False  # the mock parsed ``body`` as JSON when it answered: readers may send it as it is
    response_json: bool = False  # ``response`` is JSON the mock wrote itself


_FIELD = {name: index for index, name in enumerate(Entry._fields)}
# Where each field sits in a raw row: readers address rows by these names, never by number,
# so a field appended to Entry (and to the tuple record() builds) moves nothing.
_ID, _METHOD, _PATH, _REGION, _PROJECT = (_FIELD[n] for n in ("id", "method", "path", "region", "project"))
_STATUS, _ERROR, _BODY, _FAULT, _STUB = (_FIELD[n] for n in ("status", "error", "body", "fault", "stub"))
_SIZE, _REQUEST_HEADERS, _RESPONSE_HEADERS = _FIELD["size"], _FIELD["request_headers"], _FIELD["response_headers"]
Row = tuple[Any, ...]


def _flat(headers: Headers) -> str | Headers:
    """(name, value) pairs as one string, NUL between items (HTTP allows no NUL in a header,
    RFC 9110 §5.5): an atomic object, so the entry tuple holding it is untracked by the
    collector at its first collection. A NUL that came anyway keeps the pairs as they are."""
    joined = "\0".join(itertools.chain.from_iterable(headers))  # C-level flattening: on every request's path
    return headers if joined.count("\0") != 2 * len(headers) - 1 and headers else joined


def _pairs(flat: str | Headers) -> Headers:
    if not isinstance(flat, str):
        return flat
    if not flat:
        return ()
    items = flat.split("\0")
    return tuple(zip(items[::2], items[1::2]))


_ROW_LENGTH = len(Entry._fields)


def _entry(row: tuple[Any, ...]) -> Entry:
    fields = list(row)
    if len(fields) < _ROW_LENGTH:  # a row written before later fields existed (a shared journal in Redis)
        fields.extend(Entry._field_defaults[name] for name in Entry._fields[len(fields):])
    fields[_REQUEST_HEADERS] = _pairs(row[_REQUEST_HEADERS])
    fields[_RESPONSE_HEADERS] = _pairs(row[_RESPONSE_HEADERS])
    return Entry._make(fields)


class Criteria(NamedTuple):
    """What :meth:`Journal.find` matches; every field is optional (None matches all).

    ``path`` and header values are globs (``fnmatch``); ``body_contains`` is a substring of
    the raw request body; ``since_id`` keeps entries with a larger id.
    """

    method: str | None = None
    path: str | None = None
    region: str | None = None
    project: str | None = None
    status: int | None = None
    error: str | None = None
    fault: str | None = None
    stub: str | None = None
    headers: dict[str, str] | None = None
    body_contains: str | None = None
    since_id: int | None = None


class Journal:
    def __init__(
        self,
        cap: int = DEFAULT_JOURNAL_CAP,
        *,
        max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        body_max: int = DEFAULT_JOURNAL_BODY_MAX,
        redact: Iterable[str] = DEFAULT_REDACTED_HEADERS,
    ) -> None:
        if cap < 1:
            raise ValueError("the journal cap must be at least 1")
        if max_bytes < 1 or body_max < 0:
            raise ValueError("the journal byte limits must be positive")
        self.cap = cap
        self.max_bytes = max_bytes
        self.body_max = body_max
        self.redact = frozenset(name.lower() for name in redact)
        # Plain tuples of strings, numbers and bytes (headers joined into one string), made
        # Entry on read: the collector untracks such a tuple at its first collection, never
        # a namedtuple, nor a tuple holding a container it has not untracked yet (it sees
        # the container after the tuple); tracked, 10,000 entries made every collection of
        # their generation walk them (6-12 ms pauses under load).
        self._entries: deque[tuple[Any, ...]] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.bytes = 0
        self.dropped = 0
        self.recorded = 0
        self.lost = 0  # entries never journaled; only a shared journal (state in Redis) can lose one
        self.clears = 0  # how many times clear() ran: a reader that polls sees a reset by it

    def record(
        self,
        *,
        started: float,
        duration_ms: float,
        method: str,
        path: str,
        query: str,
        region: str | None,
        project: str | None,
        status: int,
        error: str | None,
        body: bytes | None,
        response: bytes | None,
        request_headers: Headers = (),
        response_headers: Headers = (),
        fault: str | None = None,
        via: str | None = None,
        delivery: Any = None,
        warning: str | None = None,
        ignored_query: tuple[str, ...] = (),
        stub: str | None = None,
        off_spec: tuple[str, str] | None = None,
        violations: tuple[dict[str, str], ...] | None = None,
        body_json: bool = False,
        response_json: bool = False,
    ) -> None:
        """Trims the body to ``body_max``, prices the entry and hands the row to :meth:`_append`
        (the one place a journal's storage differs: a deque here, a Redis stream there).
        ``body_json`` / ``response_json``: the bytes are known to be JSON (the mock parsed
        the body, or wrote the response), so a reader can send them without parsing them."""
        truncated = body is not None and len(body) > self.body_max
        if truncated:
            body = body[: self.body_max]  # type: ignore[index]
        if response is not None:
            # an exact copy: orjson's bytes keep their 4 KB growth buffer, 30x a typical response
            response = bytes(memoryview(response))
        size = (
            ENTRY_OVERHEAD_BYTES
            + (len(body) if body else 0)
            + (len(response) if response else 0)
            + HEADER_BYTES * (len(request_headers) + len(response_headers))
        )
        self._append((  # an Entry's fields but the id, as a plain tuple: see _entries
            started, method, path, query, region, project, status, error, body, response,
            fault, via, delivery, duration_ms, _flat(request_headers), _flat(response_headers), truncated,
            warning, ignored_query, size, stub, off_spec, violations, body_json and not truncated, response_json,
        ), size)

    def _append(self, row: Row, size: int) -> None:
        """Stores one priced row (an Entry's fields but the id), dropping the oldest past the caps."""
        with self._lock:
            self.recorded += 1
            entries = self._entries
            entries.append((next(self._ids), *row))
            self.bytes += size
            while len(entries) > self.cap or (self.bytes > self.max_bytes and len(entries) > 1):
                self.bytes -= entries.popleft()[_SIZE]
                self.dropped += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.clears += 1
            self.bytes = 0
            self.dropped = 0
            self.recorded = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _bounds(self, since_id: int | None, before_id: int | None) -> tuple[int, int]:
        """The deque positions of ids in (since_id, before_id), by bisection: ids grow along
        the deque (assigned under the lock in append order). Call with the lock held."""
        entries = self._entries
        low = 0 if since_id is None else bisect.bisect_right(entries, since_id, key=_row_id)
        high = len(entries) if before_id is None else bisect.bisect_left(entries, before_id, key=_row_id)
        return low, max(low, high)

    def select(
        self,
        criteria: Criteria = Criteria(),
        limit: int | None = None,
        *,
        before_id: int | None = None,
        where: Callable[[Row], bool] | None = None,
    ) -> tuple[list[Entry], int]:
        """The most recent ``limit`` matching entries, newest first, and how many matched.

        Only the entries returned are decoded. Unfiltered, the lock is held to take the
        newest ``limit`` rows and the total is arithmetic; filtered, the lock is held only
        for a C-level copy of the row references and the filters then run on the raw rows
        outside it (one cheap pass, for the total). ``before_id`` keeps entries with a
        smaller id (the page's "load more"); ``where`` is an extra row predicate."""
        match = _predicate(criteria, where)
        with self._lock:
            entries = self._entries
            low, high = self._bounds(criteria.since_id, before_id)
            if match is None:
                total = high - low
                taken = total if limit is None else min(limit, total)
                skip = len(entries) - high
                return [_entry(row) for row in itertools.islice(reversed(entries), skip, skip + taken)], total
            rows = list(entries) if (low, high) == (0, len(entries)) else list(itertools.islice(entries, low, high))
        chosen: list[Row] = []
        total = 0
        for row in reversed(rows):
            if match(row):
                total += 1
                if limit is None or total <= limit:
                    chosen.append(row)
        return [_entry(row) for row in chosen], total

    def count(self, criteria: Criteria = Criteria()) -> int:
        """How many entries match, without decoding any (see :meth:`select`)."""
        match = _predicate(criteria, None)
        with self._lock:
            low, high = self._bounds(criteria.since_id, None)
            if match is None:
                return high - low
            rows = list(self._entries) if low == 0 else list(itertools.islice(self._entries, low, high))
        return sum(map(match, rows))

    def find(self, criteria: Criteria = Criteria(), limit: int | None = None,
             raw: bool = False) -> tuple[list[dict[str, Any]], int]:
        """Matching entries oldest first (``limit``: only the most recent N) and the match
        count (``raw``: see :meth:`present`)."""
        entries, total = self.select(criteria, limit)
        return [self.present(entry, raw) for entry in reversed(entries)], total

    def query(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        region: str | None = None,
        project: str | None = None,
        status: int | None = None,
        since_id: int | None = None,
        limit: int | None = None,
        raw: bool = False,
    ) -> tuple[list[dict[str, Any]], int]:
        """The ``GET /__admin/requests`` filters (see :meth:`find` for more)."""
        criteria = Criteria(method=method, path=path, region=region, project=project, status=status, since_id=since_id)
        return self.find(criteria, limit, raw)

    def present(self, entry: Entry, raw: bool = False) -> dict[str, Any]:
        """The entry as readers see it: decoded bodies, ISO-8601 UTC time, redacted headers.

        ``raw``: for an answer about to be written as JSON (:func:`~.routes.common.dumps`),
        bodies known to be JSON stay bytes (:class:`RawJson`) and are copied into the answer
        as they are: parsing them costs most of an admin journal read, which runs under the
        GIL the SDK API's event loop needs."""
        stamp = datetime.fromtimestamp(entry.time, timezone.utc)
        shown: dict[str, Any] = {
            "id": entry.id,
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": entry.method,
            "path": entry.path,
            "query": entry.query,
            "region": entry.region,
            "project": entry.project,
            "status": entry.status,
            "error": entry.error,
            "body": RawJson(entry.body) if raw and entry.body_json and entry.body else decode_body(entry.body, entry.body_truncated),
            "body_truncated": entry.body_truncated,
            "response": RawJson(entry.response) if raw and entry.response_json and entry.response else decode_body(entry.response),
            "fault": entry.fault,
            "via": entry.via,
            "delivery": entry.delivery,
            "duration_ms": entry.duration_ms,
            "request_headers": self._shown_headers(entry.request_headers),
            "response_headers": self._shown_headers(entry.response_headers),
            "warning": entry.warning,
            "ignored_query": list(entry.ignored_query),
            "stub": entry.stub,
            "off_spec": list(entry.off_spec) if entry.off_spec else None,
            "violations": [dict(item) for item in entry.violations] if entry.violations else None,
        }
        return shown

    def _shown_headers(self, headers: Headers) -> dict[str, str]:
        shown: dict[str, str] = {}
        for name, value in headers:
            name = name.lower()
            value = REDACTED if name in self.redact else value
            shown[name] = f"{shown[name]}, {value}" if name in shown else value
        return shown

    def forget_project(self, key: str) -> None:
        """Drop the entries of project ``key`` (a project reset); ``recorded`` and ``dropped`` stay."""
        index = _FIELD["project"]
        with self._lock:
            kept = deque(row for row in self._entries if row[index] != key)
            self._entries = kept
            self.bytes = sum(row[_SIZE] for row in kept)


class RawJson:
    """JSON bytes to be written into an answer as they are (see :meth:`Journal.present`)."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def value(self) -> Any:
        """The parsed value, for a writer that cannot copy bytes (the standard library's)."""
        return decode_body(self.raw)


def _row_id(row: Row) -> int:
    return int(row[_ID])


def has_fault(row: Row) -> bool:
    """A row a fault fired on (the page's ``fault=*`` filter, for :meth:`Journal.select`)."""
    return row[_FAULT] is not None


def _predicate(criteria: Criteria, where: Callable[[Row], bool] | None) -> Callable[[Row], bool] | None:
    """One test of a raw row for every filter in ``criteria`` (None when nothing filters):
    equality filters compare through one C-level itemgetter, the path glob is a compiled
    regex, and headers are split only for a row whose other fields already matched."""
    wanted = {
        _METHOD: criteria.method.upper() if criteria.method else None,
        _REGION: criteria.region,
        _PROJECT: criteria.project,
        _STATUS: criteria.status,
        _ERROR: criteria.error,
        _FAULT: criteria.fault,
        _STUB: criteria.stub,
    }
    tests: list[Callable[[Row], bool]] = []
    fields = {index: value for index, value in wanted.items() if value is not None}
    if fields:
        getter, values = operator.itemgetter(*fields), tuple(fields.values())
        value = values[0] if len(values) == 1 else values
        tests.append(lambda row: getter(row) == value)
    if criteria.path is not None:
        tests.append(_path_test(criteria.path))
    if criteria.body_contains:
        needle = criteria.body_contains.encode("utf-8")
        tests.append(lambda row: row[_BODY] is not None and needle in row[_BODY])
    if criteria.headers:
        headers = {name.lower(): pattern for name, pattern in criteria.headers.items()}
        tests.append(lambda row: _headers_match(_pairs(row[_REQUEST_HEADERS]), headers))
    if where is not None:
        tests.append(where)
    if not tests:
        return None
    return functools.reduce(_both, tests)


def _both(first: Callable[[Row], bool], second: Callable[[Row], bool]) -> Callable[[Row], bool]:
    return lambda row: first(row) and second(row)


def _path_test(pattern: str) -> Callable[[Row], bool]:
    """The path glob as the cheapest test that agrees with ``fnmatchcase``: equality with no
    wildcard, ``endswith`` for ``*`` and a literal (the usual ``*/v3/track``), else a regex."""
    literal = pattern[1:] if pattern.startswith("*") else pattern
    if not any(char in literal for char in "*?["):
        if literal is pattern:
            return lambda row: bool(row[_PATH] == pattern)
        return lambda row: bool(row[_PATH].endswith(literal))
    glob = re.compile(fnmatch.translate(pattern)).match
    return lambda row: glob(row[_PATH]) is not None


def _headers_match(recorded: Headers, wanted: dict[str, str]) -> bool:
    have = {name.lower(): value for name, value in recorded}
    return all(name in have and fnmatch.fnmatchcase(have[name], pattern) for name, pattern in wanted.items())


def decode_body(raw: bytes | None, truncated: bool = False) -> Any:
    """Parsed JSON when the bytes are JSON, else text (also for a truncated body)."""
    if not raw:
        return None
    from .validation import parse_json  # lazily: the CLI imports this module for its defaults

    if not truncated:
        try:
            return parse_json(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            pass
    return raw.decode("utf-8", errors="replace")
