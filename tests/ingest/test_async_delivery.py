"""``delivery: async`` over a real socket: 200 once valid, background delivery with retries,
a queue bounded in bytes (429 with Retry-After when full, nothing accepted then dropped), and
a reset that stores nothing of what was accepted before it."""

from __future__ import annotations

import time

import requests

from mock_1flow.testing import MockServer

WRITE_KEY = "segment_wk_acme"
PROJECT = "oneflow_prod_acme"


def batch(prefix: str, count: int = 5, padding: int = 0) -> dict:
    return {"writeKey": WRITE_KEY, "batch": [
        {"type": "track", "event": "Order", "messageId": f"{prefix}-{i}", "anonymousId": f"dev-{prefix}",
         "properties": {"pad": "x" * padding}} for i in range(count)]}


def deliveries(mock: MockServer, **params) -> dict:
    return mock.admin("deliveries", params={"write_key": WRITE_KEY, **params})


def wait_for(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_accepted_at_once_then_delivered_with_each_attempt_recorded():
    with MockServer(ingest_delivery="async", ingest_retry_speedup=14_400) as mock:
        mock.admin("faults", "POST", json={"path": "/v3/track", "status": 503, "times": 2})
        response = requests.post(mock.url + "/v1/batch", json=batch("a"), timeout=10)
        assert (response.status_code, response.json()) == (200, {"success": True})
        wait_for(lambda: deliveries(mock, status="sent")["total"] == 5)
        entries = deliveries(mock)["deliveries"]
        journal = mock.admin("requests", params={"path": "/v1/batch"})["requests"][0]
        stored = mock.admin(f"projects/{PROJECT}/events")["events"]
    assert {e["attempts"] for e in entries} == {3}, "two 503s, then sent"
    assert journal["delivery"] == {"events": 5, "queued": 5, "duplicates": 0}
    assert len(stored) == 5


def test_a_full_queue_answers_429_and_drops_nothing_it_accepted():
    with MockServer(ingest_delivery="async", ingest_queue_bytes=20_000, ingest_retry_speedup=1) as mock:
        # every delivery fails and the first retry is a minute away: accepted events stay queued
        mock.admin("faults", "POST", json={"path": "/v3/*", "status": 503})
        answers = [requests.post(mock.url + "/v1/batch", json=batch(f"b{n}", padding=1500), timeout=10) for n in range(6)]
        statuses = [a.status_code for a in answers]
        accepted = [n for n, a in enumerate(answers) if a.status_code == 200]
        refused = next(a for a in answers if a.status_code == 429)
        entries = deliveries(mock)["deliveries"]
    assert statuses[0] == 200 and 429 in statuses, statuses
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    assert {e["message_id"].split("-")[0] for e in entries} == {f"b{n}" for n in accepted}
    assert {e["status"] for e in entries} <= {"queued", "retrying"}


def test_a_reset_is_a_barrier_for_background_deliveries():
    with MockServer(ingest_delivery="async", ingest_retry_speedup=14_400) as mock:
        mock.admin("faults", "POST", json={"path": "/v3/*", "status": 503})
        assert requests.post(mock.url + "/v1/batch", json=batch("r"), timeout=10).status_code == 200
        wait_for(lambda: deliveries(mock, status="retrying")["total"] == 5)
        mock.admin("reset", "POST")  # the fault goes with it: a stale retry would now succeed
        # A new batch after the reset is delivered; the old one's retries (due within the
        # one-second window at this speed-up) must never land.
        assert requests.post(mock.url + "/v1/batch", json=batch("n"), timeout=10).status_code == 200
        wait_for(lambda: deliveries(mock, status="sent")["total"] == 5)
        window_end = time.monotonic() + 1.2  # an absence can only be watched for: the whole retry window
        while time.monotonic() < window_end:
            assert {e["message_id"][0] for e in deliveries(mock)["deliveries"]} == {"n"}
            assert mock.admin(f"projects/{PROJECT}/events")["total"] == 5
            time.sleep(0.1)
