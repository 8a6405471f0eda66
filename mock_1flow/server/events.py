"""Stored events, kept compact: one JSON blob per ``/v3/track`` call, decoded on read.

A list of event dicts costs about 840 bytes per event and millions of GC-tracked objects;
a track call's events re-serialized into one compact ``bytes`` (plus the ``_id`` strings
the dedup set needs anyway) cost well under a third of that, and a call is kept as a
string, a float, bytes and a tuple of strings in parallel deques, nothing the garbage
collector keeps scanning. Events are shown in the shape they were always stored in
(``_id``, ``name``, ``time``, ``parameters``, ``plt``, ``user_id``, ``received_at``). The store as a whole holds at most ``cap`` events: past it the
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
DEFAULT_EVENT_MAX_BYTES = 512 * 1024 * 1024
# What a stored event costs beside its packed JSON: its ``_id`` in the dedup set and its
# share of the per-call deques (benchmarks/bench_store.py measures about 260 B an event
# in all, of which about 100 B is the JSON of a small event).
EVENT_OVERHEAD_BYTES = 150
CALL_OVERHEAD_BYTES = 120
ID_SHARDS = 256  # a power of two: an id's shard is hash(id) & (ID_SHARDS - 1)


def call_bytes(rows: bytes, events: int, user_id: str) -> int:
    """The bytes one stored track call is counted for in the store's byte cap."""
    return len(rows) + len(user_id) + CALL_OVERHEAD_BYTES + EVENT_OVERHEAD_BYTES * events


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


def stored_events(user_id: str, received: float | str, rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """One stored call's events in the shape they are shown in (``GET .../events``, the state document)."""
    stamp = _iso(received)
    for event in rows:
        yield {
            "_id": event["_id"],
            "name": event["name"],
            "time": event["time"],
            "parameters": event.get("parameters", {}),
            "plt": event.get("plt"),
            "user_id": user_id,
            "received_at": stamp,
        }


class EventBudget:
    """The caps shared by every project's :class:`EventLog` in one store: events and bytes
    (packed JSON plus per-event and per-call overhead). Past either, the oldest track calls
    are dropped, across projects, and counted."""

    def __init__(self, cap: int = DEFAULT_EVENT_CAP, max_bytes: int = DEFAULT_EVENT_MAX_BYTES) -> None:
        if cap < 1:
            raise ValueError("the event cap must be at least 1")
        if max_bytes < 1:
            raise ValueError("the event byte cap must be at least 1")
        self.cap = cap
        self.max_bytes = max_bytes
        self.total = 0
        self.bytes = 0
        self.dropped = 0
        self._order: deque[EventLog] = deque()  # one entry per batch, oldest first

    def added(self, log: "EventLog", count: int, size: int) -> None:
        self.total += count
        self.bytes += size
        self._order.append(log)
        while (self.total > self.cap or self.bytes > self.max_bytes) and self._order:
            oldest = self._order.popleft()
            if oldest.released or not oldest.batches:
                continue
            gone, freed = oldest.drop_oldest()
            self.total -= gone
            self.bytes -= freed
            self.dropped += gone

    def order(self) -> list["EventLog"]:
        """Per stored call, oldest first across projects, the log that holds it (released
        logs may still appear: skip them)."""
        return list(self._order)

    def release(self, log: "EventLog") -> None:
        """A project's data was cleared: its events leave the budget (not counted as dropped)."""
        self.total -= len(log)
        self.bytes -= log.bytes
        log.released = True
        log.clear()


class EventLog:
    """One project's events in arrival order; iterating yields the stored event dicts."""

    __slots__ = ("users", "times", "call_ids", "rows", "ids", "count", "bytes", "dropped", "released", "budget",
                 "last_rows", "last_received")

    def __init__(self, budget: EventBudget | None = None) -> None:
        # one entry per track call in four parallel deques: strings, floats, bytes and a
        # tuple of the call's ids (the very strings the dedup set holds, so 13 B an event
        # in a 10-event call), which the cap removes from the set without parsing the rows.
        # Tuples of strings are untracked by the collector at their first young collection.
        self.users: deque[str] = deque()
        self.times: deque[float | str] = deque()
        self.call_ids: deque[tuple[str, ...]] = deque()
        self.rows: deque[bytes] = deque()
        # the dedup set, split in ID_SHARDS small sets: a set rehashes all of its entries
        # when it grows or has collected enough deletions, 40 ms at a million ids, a pause
        # every request in flight would wait for; a shard's rehash is 256 times smaller
        self.ids: tuple[set[str], ...] = tuple(set() for _ in range(ID_SHARDS))
        self.count = 0
        self.bytes = 0  # as counted by call_bytes, for the store's byte cap
        self.dropped = 0
        self.released = False
        self.budget = budget or EventBudget()
        self.last_rows = b""  # the last stored call, for the store's sink
        self.last_received = 0.0

    @property
    def batches(self) -> deque[tuple[str, ...]]:
        """One entry per stored track call (its events' ids), oldest first."""
        return self.call_ids

    def add(self, user_id: str, events: list[dict[str, Any]]) -> tuple[int, int]:
        """Store each event once per ``_id``; returns (stored, duplicates)."""
        shards, mask = self.ids, ID_SHARDS - 1
        kept: list[dict[str, Any]] = []
        fresh: list[str] = []
        for event in events:
            event_id = event["_id"]
            shard = shards[hash(event_id) & mask]
            if event_id not in shard:
                shard.add(event_id)
                fresh.append(event_id)
                kept.append(event)
        if kept:
            self.last_rows = rows = _pack(kept)
            self.last_received = received = time.time()
            self._push(user_id, received, fresh, rows)
        return len(kept), len(events) - len(kept)

    def add_call(self, user_id: str, received: float | str, rows: bytes, events: list[dict[str, Any]]) -> None:
        """Store one track call as it was stored before (``rows`` packed, ``events`` the same
        rows parsed), e.g. replayed from the state file; ids already stored are skipped."""
        shards, mask = self.ids, ID_SHARDS - 1
        fresh: list[str] = []
        for event in events:
            event_id = event["_id"]
            shard = shards[hash(event_id) & mask]
            if event_id not in shard:
                shard.add(event_id)
                fresh.append(event_id)
        if len(fresh) != len(events):
            if not fresh:
                return
            rows = _pack([event for event in events if event["_id"] in set(fresh)])
        self._push(user_id, received, fresh, rows)

    def calls(self) -> tuple[list[str], list[float | str], list[bytes]]:
        """The stored calls (user, received, packed rows), copied: a few pointers per call,
        cheap enough to take under the store's lock and read after it is released."""
        return list(self.users), list(self.times), list(self.rows)

    def append(self, event: dict[str, Any]) -> None:
        """Store one event as read back (with ``user_id`` and ``received_at``), e.g. from a snapshot."""
        shard = self.ids[hash(event["_id"]) & (ID_SHARDS - 1)]
        if event["_id"] in shard:
            return
        shard.add(event["_id"])
        row = {key: event[key] for key in ("_id", "name", "time", "parameters", "plt") if key in event}
        self._push(event["user_id"], event.get("received_at") or time.time(), [event["_id"]], _pack([row]))

    def _push(self, user_id: str, received: float | str, fresh: list[str], rows: bytes) -> None:
        self.users.append(user_id)
        self.times.append(received)
        self.call_ids.append(tuple(fresh))
        self.rows.append(rows)
        self.count += len(fresh)
        size = call_bytes(rows, len(fresh), user_id)
        self.bytes += size
        self.budget.added(self, len(fresh), size)

    def drop_oldest(self) -> tuple[int, int]:
        """Forget the oldest track call; returns its events and the bytes it was counted for."""
        user_id = self.users.popleft()
        self.times.popleft()
        gone = self.call_ids.popleft()
        rows = self.rows.popleft()
        shards, mask = self.ids, ID_SHARDS - 1
        for event_id in gone:
            shards[hash(event_id) & mask].discard(event_id)
        self.count -= len(gone)
        self.dropped += len(gone)
        freed = call_bytes(rows, len(gone), user_id)
        self.bytes -= freed
        return len(gone), freed

    def clear(self) -> None:
        columns: tuple[Any, ...] = (self.users, self.times, self.call_ids, self.rows, *self.ids)
        for column in columns:
            column.clear()
        self.count = 0
        self.bytes = 0

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        from .validation import parse_json  # lazily: the CLI imports this module for its defaults

        for user_id, received, rows in list(zip(self.users, self.times, self.rows)):
            yield from stored_events(user_id, received, parse_json(rows))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EventLog):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"EventLog({self.count} events, {self.dropped} dropped)"
