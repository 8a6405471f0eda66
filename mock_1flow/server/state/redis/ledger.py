"""The Segment ingest's delivery ledger in Redis (``serve --store``): the same interface as
:class:`~mock_1flow.ingest.ledger.DeliveryLedger`, shared by every instance, so two
instances behind one write key never deliver one messageId twice: an instance delivers an
event only after claiming it in Redis (:data:`lua.LEDGER_CLAIM`), and an event that ended
(sent, dropped) is a duplicate on every instance."""

from __future__ import annotations

import time
from typing import Any, Iterable

import orjson

from ....destination.outcomes import Outcome
from ....ingest.ledger import (DEFAULT_LEDGER_CAP, DEFAULT_LEDGER_MAX_BYTES, ENTRY_OVERHEAD_BYTES, FAILED, FIELDS, FINAL,
                               QUEUED, _strings_bytes)
from . import Shared

CLAIM_LEASE_MS = 120_000  # a claim outlives any delivery (latency faults top out well below); a dead instance's expires
SEP = "\x1f"


def _field(write_key: str, message_id: str) -> str:
    return write_key + SEP + message_id


class RedisLedger:
    def __init__(self, shared: Shared, cap: int = DEFAULT_LEDGER_CAP, max_bytes: int = DEFAULT_LEDGER_MAX_BYTES) -> None:
        self.shared, self.cap, self.max_bytes = shared, cap, max_bytes

    def _entry(self, write_key: str, message_id: str) -> list[Any] | None:
        raw = self.shared.call(self.shared.client.hget, "m1f:ledger", _field(write_key, message_id))
        return None if raw is None else orjson.loads(raw)

    def done(self, write_key: str, message_id: str) -> bool:
        entry = self._entry(write_key, message_id)
        return entry is not None and entry[2] in FINAL

    def accepted(self, write_key: str, message_id: str) -> bool:
        entry = self._entry(write_key, message_id)
        return entry is not None and entry[2] != FAILED

    def claim(self, write_key: str, message_ids: list[str]) -> list[bool]:
        """Per event, whether this instance is to deliver it now (not ended, not being
        delivered by another instance); the claim ends when its outcome is recorded."""
        if not message_ids:
            return []
        found = self.shared.run("LEDGER_CLAIM", CLAIM_LEASE_MS, *(_field(write_key, m) for m in message_ids))
        return [bool(flag) for flag in found]

    def _put(self, rows: list[Any]) -> None:
        if rows:
            self.shared.run("LEDGER_PUT", self.cap, self.max_bytes, repr(time.time()), *rows)

    @staticmethod
    def _row(write_key: str, message_id: str, project: str, kind: str, status: str, reason: str | None,
             http_status: int | None, error: str | None, detail: str | None, attempt: int) -> list[Any]:
        head = orjson.dumps([project, kind, status, reason, http_status, error, detail])[:-1]
        size = ENTRY_OVERHEAD_BYTES + _strings_bytes(message_id, kind, reason, error, detail)
        return [_field(write_key, message_id), head, attempt, size]

    def record(self, write_key: str, project: str, outcomes: Iterable[Outcome]) -> None:
        self._put([item for o in outcomes for item in self._row(
            write_key, o.message_id, project, o.type, o.status, o.reason, o.http_status, o.error, o.detail, 1)])

    def queue(self, write_key: str, project: str, events: Iterable[tuple[str, str]]) -> None:
        self._put([item for message_id, kind in events for item in self._row(
            write_key, message_id, project, kind, QUEUED, None, None, None, None, 0)])

    def _meta(self, name: str) -> int:
        return int(self.shared.call(self.shared.client.hget, "m1f:lmeta", name) or 0)

    @property
    def bytes(self) -> int:
        return self._meta("bytes")

    @property
    def dropped(self) -> int:
        return self._meta("dropped")

    @property
    def recorded(self) -> int:
        return self._meta("recorded")

    def size(self) -> int:
        return int(self.shared.call(self.shared.client.zcard, "m1f:lorder"))

    def clear(self) -> None:
        self.shared.run("LEDGER_CLEAR")

    def query(self, write_key: str | None = None, message_id: str | None = None, status: str | None = None,
              limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
        client = self.shared.client
        fields = self.shared.call(client.zrange, "m1f:lorder", 0, -1)
        values = self.shared.call(client.hmget, "m1f:ledger", fields) if fields else []
        matching = []
        for field, raw in zip(fields, values):
            if raw is None:
                continue
            key, _, mid = field.decode().partition(SEP)
            entry = orjson.loads(raw)
            if (write_key is None or key == write_key) and (message_id is None or mid == message_id) \
                    and (status is None or entry[2] == status):
                matching.append((key, mid, entry))
        total = len(matching)
        if limit is not None:
            matching = matching[-limit:] if limit else []
        return [{"write_key": key, "message_id": mid, **dict(zip(FIELDS, entry))} for key, mid, entry in matching], total
