"""At-least-once through the Segment ingest, with the real segment-analytics-python client.

The rule: every event the client handed to the ingest ends stored exactly once once the
faults clear, or shows as ``failed`` with its reason in ``GET /__admin/deliveries``;
nothing is lost behind a 200. Faults hit the 1Flow calls the ingest makes downstream
(503, 429 and dropped connections, at 30% and 100%).
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from segment.analytics import Client

from mock_1flow.destination.wire import object_id
from mock_1flow.events import generate_events
from mock_1flow.testing import MockServer

from .test_segment_to_1flow import PROJECT, WRITE_KEY, send_with_segment_sdk

TRACKED = ("track", "screen", "page")
FAULT_KINDS = {
    "503": {"status": 503},
    "429": {"status": 429, "retry_after": 0},
    "drop": {"drop_connection": True},
}


def sample(count: int, seed: int) -> list[dict]:
    events = generate_events(count, seed=seed, types=("track", "screen", "page", "identify"))
    return [e for e in events if e.get("userId") or e.get("anonymousId")]


def run_client(mock: MockServer, events: list[dict], retries: int, failures: list, rate_limit_budget: float = 60) -> Client:
    client = Client(WRITE_KEY, host=mock.url, upload_size=20, upload_interval=0.05, max_retries=retries,
                    on_error=lambda error, batch: failures.append((error, len(batch))),
                    max_rate_limit_duration=rate_limit_budget)
    for event in events:
        send_with_segment_sdk(client, event)
    return client


def settle(client: Client) -> None:
    client.flush()
    client.join()


def assert_at_least_once(mock: MockServer, events: list[dict]) -> dict[str, dict]:
    """Each event has a delivery; sent ones are stored exactly once; the rest say why."""
    deliveries = {d["message_id"]: d for d in mock.admin("deliveries", params={"write_key": WRITE_KEY})["deliveries"]}
    stored = [e["_id"] for e in mock.admin(f"projects/{PROJECT}/events")["events"]]
    assert not [i for i, n in Counter(stored).items() if n > 1], "an event was stored twice"
    missing = [e["messageId"] for e in events if e["messageId"] not in deliveries]
    assert not missing, f"{len(missing)} accepted events have no recorded outcome"
    for event in events:
        delivery = deliveries[event["messageId"]]
        if delivery["status"] == "failed":
            assert delivery["reason"], delivery
        elif delivery["status"] == "sent" and event["type"] in TRACKED:
            assert object_id(event["messageId"]) in stored, f"sent but not stored: {delivery}"
    sent_tracks = {object_id(e["messageId"]) for e in events
                   if e["type"] in TRACKED and deliveries[e["messageId"]]["status"] == "sent"}
    assert set(stored) == sent_tracks
    return deliveries


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_30_percent_faults_downstream_every_event_stored_exactly_once(kind):
    events = sample(60, seed=21)
    failures: list = []
    with MockServer() as mock:
        mock.admin("faults", "POST", json={"path": "/v3/*", "probability": 0.3, **FAULT_KINDS[kind]})
        settle(run_client(mock, events, retries=30, failures=failures))
        faulted = mock.admin("faults")["faults"][0]["hits"]
        retried = mock.admin("requests", params={"path": "/v1/batch"})["requests"]
        deliveries = assert_at_least_once(mock, events)
    assert faulted > 0, "the fault should have fired"
    assert {r["status"] for r in retried} >= {200} and any(r["status"] in (429, 503) for r in retried)
    assert not failures, failures
    assert Counter(d["status"] for d in deliveries.values())["failed"] == 0


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_100_percent_faults_then_cleared_every_event_stored_exactly_once(kind):
    events = sample(30, seed=22)
    failures: list = []
    fault = {**FAULT_KINDS[kind], "retry_after": 1} if kind == "429" else FAULT_KINDS[kind]
    with MockServer() as mock:
        mock.admin("faults", "POST", json={"path": "/v3/*", **fault})
        client = run_client(mock, events, retries=30, failures=failures)
        deadline = time.monotonic() + 10
        while not mock.admin("deliveries", params={"status": "failed"})["total"] and time.monotonic() < deadline:
            time.sleep(0.05)
        failed_while_faulty = mock.admin("deliveries", params={"status": "failed"})["deliveries"]
        assert failed_while_faulty and all(d["reason"] for d in failed_while_faulty)
        assert mock.admin(f"projects/{PROJECT}/events")["total"] == 0, "nothing can be stored while every call fails"
        mock.admin("faults", "DELETE")
        settle(client)
        deliveries = assert_at_least_once(mock, events)
    assert not failures, failures
    assert Counter(d["status"] for d in deliveries.values())["failed"] == 0
    assert max(d["attempts"] for d in deliveries.values()) > 1


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_100_percent_faults_that_never_clear_show_every_event_failed_with_its_reason(kind):
    events = sample(12, seed=23)
    failures: list = []
    fault = {**FAULT_KINDS[kind], "retry_after": 1} if kind == "429" else FAULT_KINDS[kind]
    expected = {"503": "503 injected_fault", "429": "429 rate_limited", "drop": "transport_error"}[kind]
    with MockServer() as mock:
        mock.admin("faults", "POST", json={"path": "/v3/*", **fault})
        # rate-limited batches are retried until the client's rate-limit budget runs out
        client = run_client(mock, events, retries=1, failures=failures, rate_limit_budget=2)
        settle(client)
        deliveries = assert_at_least_once(mock, events)
    assert failures, "the client should have given up and said so"
    assert {d["status"] for d in deliveries.values()} <= {"failed", "dropped"}
    assert {d["reason"] for d in deliveries.values() if d["status"] == "failed"} == {expected}
