"""Stored events, kept compact: one JSON blob per ``/v3/track`` call, decoded on read.

A list of event dicts costs about 840 bytes per event and millions of GC-tracked objects;
a track call's events re-serialized into one compact ``bytes`` (plus the ``_id`` strings
the dedup set needs anyway) cost well under half of that, and a tuple of strings and
bytes is never scanned by the collector. Events are shown in the shape they were always
stored in (``_id``, ``name``, ``time``, ``parameters``, ``plt``, ``user_id``, ``received_at``). The store as a whole holds at most ``cap`` events: past it the
oldest track calls are dropped (whole calls, oldest first, across projects) and counted.
"""

from __future__ import annotations

import json
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, Iterator, NamedTuple

import orjson

DEFAULT_EVENT_CAP = 1_000_000


class Batch(NamedTuple):
    """The events one track call stored: who, when (epoch seconds or ISO text), their ids,
    and the events as compact JSON (an array of the event objects as received)."""

    user_id: str
    received: float | str
    ids: tuple[str, ...]
    rows: bytes


def _pack(rows: list[Any]) -> bytes:
    try:
        return orjson.dumps(rows)
    except TypeError:  # integers past 64 bits: the standard library keeps them exact
        return json.dumps(rows, separators=(",", ":")).encode()


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
        log.batches.clear()
        log.ids.clear()
        log.count = 0


class EventLog:
    """One project's events in arrival order; iterating yields the stored event dicts."""

    __slots__ = ("batches", "ids", "count", "dropped", "released", "budget")

    def __init__(self, budget: EventBudget | None = None) -> None:
        self.batches: deque[Batch] = deque()
        self.ids: set[str] = set()
        self.count = 0
        self.dropped = 0
        self.released = False
        self.budget = budget or EventBudget()

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
            self._push(Batch(user_id, time.time(), tuple(fresh), _pack(kept)))
        return len(kept), len(events) - len(kept)

    def append(self, event: dict[str, Any]) -> None:
        """Store one event as read back (with ``user_id`` and ``received_at``), e.g. from a snapshot."""
        if event["_id"] in self.ids:
            return
        self.ids.add(event["_id"])
        row = {key: event[key] for key in ("_id", "name", "time", "parameters", "plt") if key in event}
        self._push(Batch(event["user_id"], event.get("received_at") or time.time(), (event["_id"],), _pack([row])))

    def _push(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.count += len(batch.ids)
        self.budget.added(self, len(batch.ids))

    def drop_oldest(self) -> int:
        batch = self.batches.popleft()
        self.ids.difference_update(batch.ids)
        self.count -= len(batch.ids)
        self.dropped += len(batch.ids)
        return len(batch.ids)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from .validation import parse_json  # lazily: the CLI imports this module for its defaults

        for batch in list(self.batches):
            received = _iso(batch.received)
            for event in parse_json(batch.rows):
                yield {
                    "_id": event["_id"],
                    "name": event["name"],
                    "time": event["time"],
                    "parameters": event.get("parameters", {}),
                    "plt": event.get("plt"),
                    "user_id": batch.user_id,
                    "received_at": received,
                }

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventLog):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"EventLog({self.count} events, {self.dropped} dropped)"
