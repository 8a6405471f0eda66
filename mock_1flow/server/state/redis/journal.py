"""The journal in Redis (entry ids in a sorted set, entries in a hash) shared by every worker and instance: ids from one
counter order the entries across them, and the caps (entries, bytes) hold across all.
Entries are written in batches by :mod:`.flusher`; every read first has every instance
write what it queued.

Reads fetch the stream (at most ``cap`` entries) and filter it with the in-memory
journal's own code, so ``GET /__admin/requests`` answers the same on every instance.
"""

from __future__ import annotations

import atexit
import threading
from collections import deque
from typing import Any, Callable, Iterable

import orjson

from ...journal import (DEFAULT_JOURNAL_BODY_MAX, DEFAULT_JOURNAL_CAP, DEFAULT_JOURNAL_MAX_BYTES, DEFAULT_REDACTED_HEADERS,
                        Criteria, Entry, Journal, Row)
from . import Shared
from .flusher import Barrier, Flusher

ENTRIES = "m1f:journal"  # id, size, project of each entry; the entries are in m1f:jentries (lua.JOURNAL_TRIM)


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
        self.flusher = Flusher(shared, cap, max_bytes)
        self.barrier = Barrier(shared, self.flusher)
        atexit.register(self.flusher.flush)  # a worker that stops writes what it queued

    def _append(self, row: Row, size: int) -> None:
        """The row Journal.record priced, queued for the shared journal with the id the
        request's operation took, if it ran one (lua.OP_OPEN): the row as JSON with the body's
        and response's lengths in their places (-1: none), a newline, then the two as they are
        (as JSON text they cost a decoding and an escaping of every quote, 2-3 µs a request)."""
        body, response = row[8], row[9]
        data = list(row)  # 5: project, 8: body, 9: response (an Entry's index less one: no id yet)
        data[8] = -1 if body is None else len(body)
        data[9] = -1 if response is None else len(response)
        payload = b"".join((orjson.dumps(data, default=str), b"\n", body or b"", response or b""))
        local = self.shared.local
        journal_id, local.journal_id = getattr(local, "journal_id", 0), 0
        self.flusher.put(journal_id, size, row[5] or "", payload)

    def _rows(self, since_id: int | None = None) -> deque[Row]:
        self.barrier.settle()
        raw = self.shared.run("JOURNAL_READ", since_id or 0)
        rows: deque[Row] = deque()
        for i in range(0, len(raw), 2):
            entry = raw[i + 1]
            cut = entry.index(b"\n")  # JSON has no raw newline
            data = orjson.loads(entry[:cut])
            start = cut + 1
            for field in (8, 9):  # body, response
                length = data[field]
                data[field] = None if length < 0 else entry[start:start + length]
                start += max(length, 0)
            data[14], data[15] = _headers(data[14]), _headers(data[15])
            data[18] = tuple(data[18])
            data[21] = tuple(data[21]) if data[21] else None
            data[22] = tuple(data[22]) if data[22] else None
            rows.append((int(raw[i]), *data))
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

    def close(self) -> None:
        """Write what is queued and stop listening for other instances' reads."""
        self.flusher.flush()
        self.barrier.close()

    def clear(self) -> None:
        self.barrier.settle()  # what any instance answered before the clear goes with it
        self.flusher.forget()
        self.shared.run("JOURNAL_CLEAR")

    def forget_project(self, key: str) -> None:
        self.barrier.settle()
        self.shared.run("JOURNAL_FORGET", key)

    def _meta(self, name: str) -> int:
        self.barrier.settle()
        return int(self.shared.call(self.shared.client.hget, "m1f:jmeta", name) or 0)

    def __len__(self) -> int:
        self.barrier.settle()
        return int(self.shared.call(self.shared.client.zcard, ENTRIES))

    @property
    def lost(self) -> int:  # type: ignore[override]
        """Entries never written: the queue was full, or Redis refused them (an outage)."""
        return self._meta("lost") + self.flusher.lost_pending

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
