"""The delivery ledger is bounded in bytes, not only in entries (issue 10: memory bounded
in bytes). A messageId may be 32 KB, so 100,000 entries could otherwise hold gigabytes."""

from __future__ import annotations

import tracemalloc

from mock_1flow.destination.outcomes import FAILED, SENT, Outcome
from mock_1flow.ingest.ledger import DeliveryLedger

WRITE_KEY, PROJECT = "segment_wk_acme", "oneflow_prod_acme"


def outcome(i: int, id_length: int = 24, status: str = SENT) -> Outcome:
    reason = None if status == SENT else str(503)
    return Outcome(message_id=f"m{i}".ljust(id_length, "x"), type="track", status=status, reason=reason,
                   http_status=503 if status == FAILED else None)


def fill(ledger: DeliveryLedger, count: int, id_length: int) -> int:
    """Record ``count`` events; returns the bytes the ledger holds for them, traced."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, count, 10):
            ledger.record(WRITE_KEY, PROJECT, [outcome(i, id_length) for i in range(start, start + 10)])
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_large_message_ids_are_bounded_by_the_byte_cap():
    ledger = DeliveryLedger(cap=100_000, max_bytes=2 * 2**20)
    held = fill(ledger, 5_000, id_length=4_000)  # 20 MB of messageIds
    assert held < 2.5 * 2**20
    assert ledger.bytes <= ledger.max_bytes
    assert ledger.dropped == 5_000 - ledger.size() and ledger.recorded == 5_000
    # the newest are kept and still deduplicate a retry; the oldest are forgotten
    assert ledger.done(WRITE_KEY, outcome(4_999, 4_000).message_id)
    assert not ledger.done(WRITE_KEY, outcome(0, 4_000).message_id)


def test_the_byte_count_follows_what_python_holds():
    """Neither far below (memory unbounded) nor far above (entries dropped for nothing)."""
    ledger = DeliveryLedger(cap=1_000_000, max_bytes=2**40)
    held = fill(ledger, 20_000, id_length=24)
    assert 0.7 * held < ledger.bytes < 1.5 * held


def test_a_retry_updates_the_entry_and_its_bytes():
    ledger = DeliveryLedger()
    ledger.record(WRITE_KEY, PROJECT, [outcome(1, status=FAILED)])
    failed_bytes = ledger.bytes
    ledger.record(WRITE_KEY, PROJECT, [outcome(1)])
    [entry], total = ledger.query(message_id=outcome(1).message_id)
    assert total == 1 and ledger.size() == 1 and ledger.recorded == 1
    assert entry["status"] == SENT and entry["attempts"] == 2 and entry["reason"] is None
    assert entry["write_key"] == WRITE_KEY and entry["project"] == PROJECT and entry["type"] == "track"
    assert ledger.bytes < failed_bytes  # the failure's reason no longer counted
    ledger.clear()
    assert (ledger.size(), ledger.bytes, ledger.dropped, ledger.recorded) == (0, 0, 0, 0)


def test_the_entry_cap_still_applies():
    ledger = DeliveryLedger(cap=50)
    fill(ledger, 120, id_length=24)
    assert ledger.size() == 50 and ledger.dropped == 70
    entries, total = ledger.query(limit=5)
    assert total == 50 and [e["message_id"][:4] for e in entries] == ["m115", "m116", "m117", "m118", "m119"]
