"""What became of each Segment event the ingest accepted, by write key and messageId.

The ingest's at-least-once record: every event it received has one entry here, updated
on each delivery attempt, so an event is never lost without a queryable outcome. An event
already ``sent`` or ``dropped`` is skipped when the Segment client sends it again (Segment
deduplicates by messageId).

Bounded in entries (``cap``) and in bytes (``max_bytes``): past either the oldest entries
are forgotten and counted in ``dropped``, like the journal. A messageId may be up to 32 KB
(Segment's event limit), so a cap in entries alone would not bound memory. An entry is a
tuple of strings and numbers keyed by (write key, messageId), about a third of the dict it
replaces; its bytes are what CPython holds for it, its variable strings measured.
"""

from __future__ import annotations

import sys
from sys import getsizeof
import threading
import time
from collections import OrderedDict
from typing import Any, Iterable

from ..destination.outcomes import DROPPED, FAILED, SENT, Outcome

DEFAULT_LEDGER_CAP = 100_000
DEFAULT_LEDGER_MAX_BYTES = 32 * 1024 * 1024
# The entry's tuple and key, the float and the ordered dict's slot, measured with
# tracemalloc (tests/reliability/test_delivery_ledger.py keeps the estimate honest).
ENTRY_OVERHEAD_BYTES = 280
# ``async`` delivery (.background): accepted and not yet attempted; failed, a retry planned.
QUEUED, RETRYING = "queued", "retrying"
FINAL = (SENT, DROPPED)
DELIVERY_STATES = (SENT, DROPPED, FAILED, QUEUED, RETRYING)
# The stored tuple, after its (write_key, message_id) key.
FIELDS = ("project", "type", "status", "reason", "http_status", "error", "detail", "attempts", "updated")
_STATUS, _ATTEMPTS, _SIZE = 2, 7, 9


def _strings_bytes(*values: str | None) -> int:
    """What CPython holds for the strings an entry owns (None and shared constants aside)."""
    return sum(sys.getsizeof(value) for value in values if value is not None)


class DeliveryLedger:
    def __init__(self, cap: int = DEFAULT_LEDGER_CAP, max_bytes: int = DEFAULT_LEDGER_MAX_BYTES) -> None:
        if cap < 1 or max_bytes < 1:
            raise ValueError("the ledger's cap and byte cap must be at least 1")
        self.cap = cap
        self.max_bytes = max_bytes
        # (write_key, message_id) -> (*FIELDS, size in bytes)
        self._entries: OrderedDict[tuple[str, str], tuple[Any, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.dropped = 0
        self.recorded = 0

    def done(self, write_key: str, message_id: str) -> bool:
        """Whether this event already ended sent or dropped (a retry must not send it again)."""
        with self._lock:
            entry = self._entries.get((write_key, message_id))
            return entry is not None and entry[_STATUS] in FINAL

    def accepted(self, write_key: str, message_id: str) -> bool:
        """Whether this event is already taken care of (queued, retrying, sent or dropped):
        ``async`` delivery does not queue it again."""
        with self._lock:
            entry = self._entries.get((write_key, message_id))
            return entry is not None and entry[_STATUS] != FAILED

    def claim(self, write_key: str, message_ids: list[str]) -> list[bool]:
        """Per event, whether to deliver it now: not already ended. (One process: a source's
        deliveries run one at a time; the Redis ledger also keeps instances apart.)"""
        entries = self._entries
        with self._lock:
            found = [entries.get((write_key, message_id)) for message_id in message_ids]
        return [entry is None or entry[_STATUS] not in FINAL for entry in found]

    def record(self, write_key: str, project: str, outcomes: Iterable[Outcome]) -> None:
        """One attempt's outcomes: each event's entry updated, its attempts counted."""
        now = time.time()
        with self._lock:
            self._put(write_key, project, outcomes, 1, now)  # an Outcome is the row: (message_id, type, status, ...)

    def queue(self, write_key: str, project: str, events: Iterable[tuple[str, str]]) -> None:
        """``(message_id, type)`` accepted for background delivery: ``queued``, no attempt yet."""
        now = time.time()
        with self._lock:
            self._put(write_key, project, ((message_id, kind, QUEUED, None, None, None, None) for message_id, kind in events),
                      0, now)

    def _put(self, write_key: str, project: str, rows: Iterable[tuple[Any, ...]], attempt: int, now: float) -> None:
        """Each row ``(message_id, type, status, reason, http_status, error, detail)`` stored (with the
        lock held), the oldest entries forgotten past the caps. One loop for a batch: the ingest
        records ten or more events per request."""
        entries = self._entries
        for message_id, kind, status, reason, http_status, error, detail in rows:
            key = (write_key, message_id)
            previous = entries.pop(key, None)
            if previous is None:
                self.recorded += 1
                attempts = attempt
            else:
                self.bytes -= previous[_SIZE]
                attempts = previous[_ATTEMPTS] + attempt
            size = ENTRY_OVERHEAD_BYTES + getsizeof(message_id) + getsizeof(kind)  # what _strings_bytes gives, inlined
            if reason is not None or error is not None or detail is not None:  # a sent event has none of these
                size += _strings_bytes(reason, error, detail)
            entries[key] = (project, kind, status, reason, http_status, error, detail, attempts, now, size)
            self.bytes += size
            while len(entries) > self.cap or (self.bytes > self.max_bytes and len(entries) > 1):
                self.bytes -= entries.popitem(last=False)[1][_SIZE]
                self.dropped += 1

    def size(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = self.dropped = self.recorded = 0

    def query(self, write_key: str | None = None, message_id: str | None = None, status: str | None = None,
              limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
        """Matching entries, least recently updated first, and their count before ``limit``."""
        with self._lock:
            matching = [(key, entry) for key, entry in self._entries.items()
                        if (write_key is None or key[0] == write_key)
                        and (message_id is None or key[1] == message_id)
                        and (status is None or entry[_STATUS] == status)]
        total = len(matching)
        if limit is not None:
            matching = matching[-limit:] if limit else []
        return [{"write_key": key[0], "message_id": key[1], **dict(zip(FIELDS, entry))} for key, entry in matching], total
