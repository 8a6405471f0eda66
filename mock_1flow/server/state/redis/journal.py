"""The journal in one Redis stream shared by every worker and instance: ids from one
counter order the entries across them, and the caps (entries, bytes) hold across all.

Reads fetch the stream (at most ``cap`` entries) and filter it with the in-memory
journal's own code, so ``GET /__admin/requests`` answers the same on every instance.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Callable, Iterable

import orjson

from ...journal import (DEFAULT_JOURNAL_BODY_MAX, DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES, DEFAULT_REDACTED_HEADERS,
                        Criteria, Entry, Journal, Row)
from . import Shared, StoreUnavailable, log

STREAM = "m1f:journal"


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else value.encode("latin-1")


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _headers(flat: Any) -> Any:
    return flat if isinstance(flat, str) else tuple(tuple(pair) for pair in flat)


class RedisJournal(Journal):
    def __init__(
        self,
        shared: Shared,
        cap: int = DEFAULT_JOURNAL_CAP,
        *,
        max_bytes: int = DEFAULT_JOURNAL_MAX_BYTES,
        body_max: int = DEFAULT_JOURNAL_BODY_MAX,
        redact: Iterable[str] = DEFAULT_REDACTED_HEADERS,
    ) -> None:
        self._local = Journal(cap, max_bytes=max_bytes, body_max=body_max, redact=redact)  # checks the limits
        self.shared = shared
        self.cap, self.max_bytes, self.body_max, self.redact = cap, max_bytes, body_max, self._local.redact
        self._lock = threading.Lock()
        self._warned = False

    def _append(self, row: Row, size: int) -> None:
        """The row Journal.record priced, as JSON (bytes as latin-1 text) on the shared stream."""
        data = list(row)  # 5: project, 8: body, 9: response (an Entry's index less one: no id yet)
        data[8], data[9] = _text(row[8]), _text(row[9])
        payload = orjson.dumps(data, default=str)
        try:
            self.shared.run("JOURNAL_RECORD", self.cap, self.max_bytes, size, row[5] or "", payload)
        except StoreUnavailable as exc:  # the request was answered 503 already; there is no journal to write
            if not self._warned:
                log.warning("mock-1flow: a request was not journaled: %s", exc.message)
                self._warned = True
            return
        self._warned = False

    def _rows(self, since_id: int | None = None) -> deque[Row]:
        start = "-" if since_id is None else f"(0-{since_id}"
        raw = self.shared.call(self.shared.client.xrange, STREAM, start, "+")
        rows: deque[Row] = deque()
        for stream_id, fields in raw:
            data = orjson.loads(fields[b"e"])
            data[8], data[9] = _bytes(data[8]), _bytes(data[9])
            data[14], data[15] = _headers(data[14]), _headers(data[15])
            data[18] = tuple(data[18])
            data[21] = tuple(data[21]) if data[21] else None
            data[22] = tuple(data[22]) if data[22] else None
            rows.append((int(stream_id.split(b"-")[1]), *data))
        return rows

    def _view(self, since_id: int | None = None) -> Journal:
        view = Journal(self.cap, max_bytes=self.max_bytes, body_max=self.body_max, redact=self.redact)
        view._entries = self._rows(since_id)
        return view

    def select(
        self,
        criteria: Criteria = Criteria(),
        limit: int | None = None,
        *,
        before_id: int | None = None,
        where: Callable[[Row], bool] | None = None,
    ) -> tuple[list[Entry], int]:
        return self._view(criteria.since_id).select(criteria, limit, before_id=before_id, where=where)

    def count(self, criteria: Criteria = Criteria()) -> int:
        return self._view(criteria.since_id).count(criteria)

    def clear(self) -> None:
        self.shared.run("JOURNAL_CLEAR")

    def forget_project(self, key: str) -> None:
        self.shared.run("JOURNAL_FORGET", key)

    def _meta(self, name: str) -> int:
        return int(self.shared.call(self.shared.client.hget, "m1f:jmeta", name) or 0)

    def __len__(self) -> int:
        return int(self.shared.call(self.shared.client.xlen, STREAM))

    @property
    def recorded(self) -> int:  # type: ignore[override]
        return self._meta("recorded")

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self._meta("dropped")

    @property
    def bytes(self) -> int:  # type: ignore[override]
        return self._meta("bytes")

    @property
    def clears(self) -> int:  # type: ignore[override]
        return self._meta("clears")
