"""The ingest's two delivery modes under downstream faults, with the real
segment-analytics-python client: every accepted event ends ``sent`` or ``failed`` with its
reason (or ``dropped`` by the profile, with its reason), none stored twice, none lost; in
``async`` mode (Segment's semantics) the client reports no failure at all.

The matrix: {sync, async} x {30%, 100%} of the 1Flow calls the ingest makes failing with 503,
and 30% dropped connections. Each cell prints its figures (``-s`` shows them).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from mock_1flow.testing import MockServer

from .test_ingest_at_least_once import assert_at_least_once, run_client, sample, settle
from .test_segment_to_1flow import WRITE_KEY

SPEEDUP = 14_400  # Segment's four hours of retries become one second
FAULTS = {"503": {"status": 503}, "drop": {"drop_connection": True}}
CELLS = [("sync", 0.3, "503"), ("sync", 1.0, "503"), ("async", 0.3, "503"), ("async", 1.0, "503"),
         ("sync", 0.3, "drop"), ("async", 0.3, "drop")]
REASONS = {"503": "503 injected_fault", "drop": "transport_error"}


def wait_final(mock: MockServer, timeout: float = 15) -> None:
    """Poll until no delivery is queued or waiting for a retry (async mode's background work)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = sum(mock.admin("deliveries", params={"status": state, "write_key": WRITE_KEY})["total"]
                      for state in ("queued", "retrying"))
        if not pending:
            return
        time.sleep(0.05)
    raise AssertionError("deliveries still queued or retrying after the retry window")


@pytest.mark.parametrize("mode, probability, kind", CELLS, ids=[f"{m}-{int(p * 100)}%-{k}" for m, p, k in CELLS])
def test_every_accepted_event_ends_sent_or_failed_once(mode, probability, kind):
    events = sample(40, seed=31)
    failures: list = []
    started = time.monotonic()
    with MockServer(ingest_delivery=mode, ingest_retry_speedup=SPEEDUP) as mock:
        mock.admin("faults", "POST", json={"path": "/v3/*", "probability": probability, **FAULTS[kind]})
        # sync: the client retries what the ingest answers 503 for; with every call failing it gives up
        client = run_client(mock, events, retries=30 if probability < 1 else 1, failures=failures)
        settle(client)
        wait_final(mock)
        deliveries = assert_at_least_once(mock, events)
    states = Counter(d["status"] for d in deliveries.values())
    attempts = max(d["attempts"] for d in deliveries.values())
    print(f"\n[matrix] {mode:5} {int(probability * 100):3}% {kind:4}: {len(events)} events, "
          f"sent {states['sent']}, failed {states['failed']}, dropped {states['dropped']}, "
          f"client failures {sum(n for _, n in failures)}, max attempts {attempts}, "
          f"{time.monotonic() - started:.1f} s")
    assert set(states) <= {"sent", "failed", "dropped"}
    assert {d["reason"] for d in deliveries.values() if d["status"] == "failed"} <= {REASONS[kind]}
    if mode == "async":
        assert not failures, "Segment's API answers 200 once it has accepted a batch"
        assert attempts > 1, "failed deliveries are retried in the background"
    if probability < 1:
        assert states["failed"] == 0, "a 30% fault is outlasted by the retries"
    else:
        assert states["sent"] == 0 and states["failed"] > 0
        if mode == "sync":
            assert failures, "sync answers 503, and the client gives up and says so"
