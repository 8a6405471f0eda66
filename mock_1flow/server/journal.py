"""The request journal (WireMock-style): what each API request was and how it was answered.

Entries are immutable tuples holding the request and response bodies as the raw bytes
that crossed the wire; they are decoded only when read. That keeps recording cheap and
keeps the collector away: a tuple of strings and bytes is untracked by CPython's GC, so a
full journal adds no GC pauses. The journal is bounded twice, by entry count (``cap``) and
by total bytes (``max_bytes``); entries pushed out by either are counted in ``dropped``.
A body longer than ``body_max`` is kept truncated and flagged (``body_truncated``).
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Any, Iterable, NamedTuple

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


_FIELD = {name: index for index, name in enumerate(Entry._fields)}
_SIZE, _REQUEST_HEADERS, _RESPONSE_HEADERS = _FIELD["size"], _FIELD["request_headers"], _FIELD["response_headers"]


def _flat(headers: Headers) -> str | Headers:
    """(name, value) pairs as one string, NUL between items (HTTP allows no NUL in a header,
    RFC 9110 §5.5): an atomic object, so the entry tuple holding it is untracked by the
    collector at its first collection. A NUL that came anyway keeps the pairs as they are."""
    joined = "\0".join([item for pair in headers for item in pair])
    return headers if joined.count("\0") != 2 * len(headers) - 1 and headers else joined


def _pairs(flat: str | Headers) -> Headers:
    if not isinstance(flat, str):
        return flat
    if not flat:
        return ()
    items = flat.split("\0")
    return tuple(zip(items[::2], items[1::2]))


def _entry(row: tuple[Any, ...]) -> Entry:
    fields = list(row)
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
    ) -> None:
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
        with self._lock:
            entry = (  # an Entry's fields as a plain tuple: see _entries
                next(self._ids), started, method, path, query, region, project, status, error, body, response,
                fault, via, delivery, duration_ms, _flat(request_headers), _flat(response_headers), truncated,
                warning, ignored_query, size,
            )
            self.recorded += 1
            entries = self._entries
            entries.append(entry)
            self.bytes += size
            while len(entries) > self.cap or (self.bytes > self.max_bytes and len(entries) > 1):
                self.bytes -= entries.popleft()[_SIZE]
                self.dropped += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0
            self.dropped = 0
            self.recorded = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _matching(self, criteria: Criteria) -> list[Entry]:
        with self._lock:
            rows = list(self._entries)
        since = criteria.since_id
        entries = [_entry(row) for row in rows if since is None or row[0] > since]
        method = criteria.method.upper() if criteria.method else None
        headers = {name.lower(): pattern for name, pattern in (criteria.headers or {}).items()}
        needle = criteria.body_contains.encode("utf-8") if criteria.body_contains else None
        return [
            entry
            for entry in entries
            if (method is None or entry.method == method)
            and (criteria.path is None or fnmatch.fnmatchcase(entry.path, criteria.path))
            and (criteria.region is None or entry.region == criteria.region)
            and (criteria.project is None or entry.project == criteria.project)
            and (criteria.status is None or entry.status == criteria.status)
            and (criteria.error is None or entry.error == criteria.error)
            and (criteria.fault is None or entry.fault == criteria.fault)
            and (needle is None or (entry.body is not None and needle in entry.body))
            and (not headers or _headers_match(entry.request_headers, headers))
        ]

    def count(self, criteria: Criteria = Criteria()) -> int:
        return len(self._matching(criteria))

    def find(self, criteria: Criteria = Criteria(), limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
        """Matching entries oldest first (``limit``: only the most recent N) and the match count."""
        matches = self._matching(criteria)
        total = len(matches)
        if limit is not None:
            matches = matches[-limit:]
        return [self.present(entry) for entry in matches], total

    def query(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        region: str | None = None,
        project: str | None = None,
        status: int | None = None,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """The ``GET /__admin/requests`` filters (see :meth:`find` for more)."""
        return self.find(Criteria(method=method, path=path, region=region, project=project, status=status), limit)

    def present(self, entry: Entry) -> dict[str, Any]:
        """The entry as readers see it: decoded bodies, ISO-8601 UTC time, redacted headers."""
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
            "body": decode_body(entry.body, entry.body_truncated),
            "body_truncated": entry.body_truncated,
            "response": decode_body(entry.response),
            "fault": entry.fault,
            "via": entry.via,
            "delivery": entry.delivery,
            "duration_ms": entry.duration_ms,
            "request_headers": self._shown_headers(entry.request_headers),
            "response_headers": self._shown_headers(entry.response_headers),
            "warning": entry.warning,
            "ignored_query": list(entry.ignored_query),
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
