"""What became of each Segment event the ingest accepted, by write key and messageId.

The ingest's at-least-once record: every event it received has one entry here, updated
on each delivery attempt, so an event is never lost without a queryable outcome. An event
already ``sent`` or ``dropped`` is skipped when the Segment client sends it again (Segment
deduplicates by messageId). Bounded: past ``cap`` entries the oldest are forgotten and
counted in ``dropped``, like the journal.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Iterable

from ..destination.outcomes import DROPPED, FAILED, SENT, Outcome

DEFAULT_LEDGER_CAP = 100_000
FINAL = (SENT, DROPPED)
DELIVERY_STATES = (SENT, DROPPED, FAILED)


class DeliveryLedger:
    def __init__(self, cap: int = DEFAULT_LEDGER_CAP) -> None:
        self.cap = cap
        self._entries: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.dropped = 0
        self.recorded = 0

    def done(self, write_key: str, message_id: str) -> bool:
        """Whether this event already ended sent or dropped (a retry must not send it again)."""
        with self._lock:
            entry = self._entries.get((write_key, message_id))
            return entry is not None and entry["status"] in FINAL

    def record(self, write_key: str, project: str, outcomes: Iterable[Outcome]) -> None:
        now = time.time()
        with self._lock:
            for outcome in outcomes:
                key = (write_key, outcome.message_id)
                entry = self._entries.pop(key, None)
                if entry is None:
                    self.recorded += 1
                    entry = {"write_key": write_key, "message_id": outcome.message_id, "attempts": 0}
                entry.update(project=project, type=outcome.type, status=outcome.status, reason=outcome.reason,
                             http_status=outcome.http_status, error=outcome.error, detail=outcome.detail,
                             attempts=entry["attempts"] + 1, updated=now)
                self._entries[key] = entry
                if len(self._entries) > self.cap:
                    self._entries.popitem(last=False)
                    self.dropped += 1

    def size(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = self.recorded = 0

    def query(self, write_key: str | None = None, message_id: str | None = None, status: str | None = None,
              limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
        """Matching entries, least recently updated first, and their count before ``limit``."""
        with self._lock:
            entries = [dict(e) for e in self._entries.values()
                       if (write_key is None or e["write_key"] == write_key)
                       and (message_id is None or e["message_id"] == message_id)
                       and (status is None or e["status"] == status)]
        total = len(entries)
        if limit is not None:
            entries = entries[-limit:] if limit else []
        return entries, total
