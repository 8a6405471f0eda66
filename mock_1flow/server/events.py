"""Stored events, kept compact: one JSON blob per ``/v3/track`` call, decoded on read.

A list of event dicts costs about 840 bytes per event and millions of GC-tracked objects;
a track call's events re-serialized into one compact ``bytes`` (plus the ``_id`` strings
the dedup set needs anyway) cost well under half of that, and a call is kept as strings,
a float and bytes in parallel deques, nothing the garbage collector has to scan. Events are shown in the shape they were always
stored in (``_id``, ``name``, ``time``, ``parameters``, ``plt``, ``user_id``, ``received_at``). The store as a whole holds at most ``cap`` events: past it the
oldest track calls are dropped (whole calls, oldest first, across projects) and counted.
"""

from __future__ import annotations

import json
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Iterator

import orjson

DEFAULT_EVENT_CAP = 1_000_000


def _pack(rows: list[Any]) -> bytes:
    try:
        packed = orjson.dumps(rows)
    except TypeError:  # integers past 64 bits: the standard library keeps them exact
        return json.dumps(rows, separators=(",", ":")).encode()
    # orjson's result keeps its growth buffer (about 4 KB for a track call); a copy is exact
    return bytes(memoryview(packed))


def _iso(received: float | str) -> str:
    if isinstance(received, str):
        return received
    stamp = datetime.fromtimestamp(received, timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventBudget:
    """The cap shared by every project's :class:`EventLog` in one store."""

    def __init__(self, cap: int = DEFAULT_EVENT_CAP) -> None:
        if cap < 1:
            raise ValueError("the event cap must be at least 1")
        self.cap = cap
        self.total = 0
        self.dropped = 0
        self._order: deque[EventLog] = deque()  # one entry per batch, oldest first

    def added(self, log: "EventLog", count: int) -> None:
        self.total += count
        self._order.append(log)
        while self.total > self.cap and self._order:
            oldest = self._order.popleft()
            if oldest.released or not oldest.batches:
                continue
            gone = oldest.drop_oldest()
            self.total -= gone
            self.dropped += gone

    def release(self, log: "EventLog") -> None:
        """A project's data was cleared: its events leave the budget (not counted as dropped)."""
        self.total -= len(log)
        log.released = True
        log.clear()


class EventLog:
    """One project's events in arrival order; iterating yields the stored event dicts."""

    __slots__ = ("users", "times", "sizes", "rows", "ids", "count", "dropped", "released", "budget")

    def __init__(self, budget: EventBudget | None = None) -> None:
        # one entry per track call in four parallel deques of strings, floats and bytes:
        # no tuple per call, so a stored call creates nothing the garbage collector tracks
        self.users: deque[str] = deque()
        self.times: deque[float | str] = deque()
        self.sizes: deque[int] = deque()
        self.rows: deque[bytes] = deque()
        self.ids: set[str] = set()
        self.count = 0
        self.dropped = 0
        self.released = False
        self.budget = budget or EventBudget()

    @property
    def batches(self) -> deque[int]:
        """One entry per stored track call (its event count), oldest first."""
        return self.sizes

    def add(self, user_id: str, events: list[dict[str, Any]]) -> tuple[int, int]:
        """Store each event once per ``_id``; returns (stored, duplicates)."""
        ids = self.ids
        fresh = [event["_id"] for event in events]
        if ids.isdisjoint(fresh) and len(set(fresh)) == len(fresh):  # the usual case, in C loops
            ids.update(fresh)
            kept = events
        else:
            kept, fresh = [], []
            for event in events:
                if event["_id"] not in ids:
                    ids.add(event["_id"])
                    fresh.append(event["_id"])
                    kept.append(event)
        if kept:
            self._push(user_id, time.time(), fresh, _pack(kept))
        return len(kept), len(events) - len(kept)

    def append(self, event: dict[str, Any]) -> None:
        """Store one event as read back (with ``user_id`` and ``received_at``), e.g. from a snapshot."""
        if event["_id"] in self.ids:
            return
        self.ids.add(event["_id"])
        row = {key: event[key] for key in ("_id", "name", "time", "parameters", "plt") if key in event}
        self._push(event["user_id"], event.get("received_at") or time.time(), [event["_id"]], _pack([row]))

    def _push(self, user_id: str, received: float | str, fresh: list[str], rows: bytes) -> None:
        self.users.append(user_id)
        self.times.append(received)
        self.sizes.append(len(fresh))
        self.rows.append(rows)
        self.count += len(fresh)
        self.budget.added(self, len(fresh))

    def drop_oldest(self) -> int:
        """Forget the oldest track call; its ids are read back from its events (only the
        cap pays for this, and keeping them apart would cost 30 bytes an event)."""
        from .validation import parse_json

        self.users.popleft()
        self.times.popleft()
        self.sizes.popleft()
        gone = [event["_id"] for event in parse_json(self.rows.popleft())]
        self.ids.difference_update(gone)
        self.count -= len(gone)
        self.dropped += len(gone)
        return len(gone)

    def clear(self) -> None:
        for column in (self.users, self.times, self.sizes, self.rows, self.ids):
            column.clear()
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from .validation import parse_json  # lazily: the CLI imports this module for its defaults

        for user_id, received, rows in list(zip(self.users, self.times, self.rows)):
            stamp = _iso(received)
            for event in parse_json(rows):
                yield {
                    "_id": event["_id"],
                    "name": event["name"],
                    "time": event["time"],
                    "parameters": event.get("parameters", {}),
                    "plt": event.get("plt"),
                    "user_id": user_id,
                    "received_at": stamp,
                }

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventLog):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"EventLog({self.count} events, {self.dropped} dropped)"
