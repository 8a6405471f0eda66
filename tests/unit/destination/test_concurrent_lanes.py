"""Several devices' requests in flight at once: libcurl's multi interface in the caller's
thread (the default for plain HTTP) and sender threads (a blocking transport such as a
requests session) must end with the same outcomes and each device's requests in the same
order as one request at a time, and keep retries, stops and deadlines working."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from mock_1flow.destination import wire
from mock_1flow.destination.client import CurlTransport, OneFlowClient, SessionTransport
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.settings import Settings
from mock_1flow.events import generate_events

KEY = "oneflow_prod_acme"


def lanes(mock, concurrency, mode="curl", **options):
    settings = Settings(KEY, "us", mock.url, profile="mobile")
    session = requests.Session() if mode == "session" else None
    options.setdefault("max_retries", 0)
    client = OneFlowClient(settings, session=session, pool_size=concurrency, **options)
    assert isinstance(client.transport, CurlTransport if mode == "curl" else SessionTransport)
    return Destination(settings, client=client, concurrency=concurrency)


def per_device_requests(mock, devices):
    """Each of ``devices``' SDK requests in the order the mock received them: (path, first
    event's _id). Only this test's devices: another test's request still in flight when the
    mock was reset may be journaled after the reset."""
    journal = mock.requests(limit=100_000)
    analytic_to_device = {}
    for entry in journal:
        if entry["path"].endswith("/v3/user") and entry["status"] == 200:
            analytic_to_device[entry["response"]["result"]["analytic_user_id"]] = entry["body"]["user_id"]
        elif entry["path"].endswith("/v3/identify") and entry["status"] == 200:
            device = analytic_to_device.get(entry["body"]["anonymous_user_id"])
            analytic_to_device[entry["response"]["result"]["analytic_user_id"]] = device
    sequences: dict = {}
    for entry in journal:
        body, path = entry["body"], entry["path"].rsplit("/", 1)[1]
        if path == "user":
            device, what = body["user_id"], None
        elif path == "identify":
            device, what = analytic_to_device[body["anonymous_user_id"]], body["user_id"]
        else:
            device, what = analytic_to_device[body["user_id"]], tuple(e["_id"] for e in body["events"])
        if device in devices:
            sequences.setdefault(device, []).append((path, what))
    return sequences


@pytest.mark.parametrize("mode", ["curl", "session"])
def test_each_devices_requests_keep_their_order_at_any_concurrency(one_flow_mock, mode):
    events = generate_events(600, seed=11)
    runs = []
    for concurrency in (1, 12):
        one_flow_mock.reset()
        destination = lanes(one_flow_mock, concurrency, mode if concurrency > 1 else "curl")
        report = destination.send(events)
        destination.close()
        runs.append((sorted((o.message_id, o.status, o.reason) for o in report.outcomes),
                     per_device_requests(one_flow_mock, {e["anonymousId"] for e in events if e.get("anonymousId")})))
    (outcomes, sequences), (outcomes_concurrent, sequences_concurrent) = runs
    assert outcomes == outcomes_concurrent and len(outcomes) == len(events)
    assert sequences == sequences_concurrent
    assert sum(1 for steps in sequences.values() if len(steps) >= 3) > 10  # devices with user, identify and track


def test_retries_of_many_devices_at_once_all_end_sent(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/track", status=503, times=6)
    one_flow_mock.add_fault(path="/v3/user", status=429, retry_after=1, times=2)
    events = [{"type": "track", "event": "A", "anonymousId": f"d{i % 10}", "messageId": f"m{i}"} for i in range(40)]
    destination = lanes(one_flow_mock, 8, max_retries=3, backoff=0.01)
    started = time.monotonic()
    report = destination.send(events)
    destination.close()
    assert report.summary() == {"events": 40, "sent": 40, "dropped": {}, "failed": {}}
    assert 1 <= time.monotonic() - started < 5  # Retry-After waited, not slept through one by one
    assert len(one_flow_mock.events(KEY)) == 40
    assert [r["status"] for r in one_flow_mock.requests(path="*/v3/track")].count(503) == 6


def test_a_stop_ends_waiting_retries_at_once(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/user", status=429, retry_after=30)
    events = [{"type": "track", "event": "A", "anonymousId": f"d{i % 5}", "messageId": f"m{i}"} for i in range(20)]
    destination = lanes(one_flow_mock, 4, max_retries=5)
    threading.Timer(0.5, destination.stop).start()
    started = time.monotonic()
    report = destination.send(events)
    destination.close()
    assert time.monotonic() - started < 5
    assert report.summary() == {"events": 20, "sent": 0, "dropped": {}, "failed": {"interrupted": 20}}


def test_the_deadline_cuts_requests_in_flight(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/user", latency_ms=3000)
    events = [{"type": "track", "event": "A", "anonymousId": f"d{i % 6}", "messageId": f"m{i}"} for i in range(12)]
    destination = lanes(one_flow_mock, 6, max_retries=2)
    destination.set_deadline(0.5)
    started = time.monotonic()
    report = destination.send(events)
    destination.close()
    assert time.monotonic() - started < 2.5
    assert report.summary() == {"events": 12, "sent": 0, "dropped": {}, "failed": {"deadline": 12}}


def test_refused_connections_are_transport_errors_for_every_device():
    settings = Settings(KEY, "us", "http://127.0.0.1:9")
    client = OneFlowClient(settings, max_retries=1, backoff=0.01, pool_size=4)
    events = [{"type": "track", "event": "A", "anonymousId": f"d{i}", "messageId": f"m{i}"} for i in range(8)]
    report = Destination(settings, client=client, concurrency=4).send(events)
    assert report.summary() == {"events": 8, "sent": 0, "dropped": {}, "failed": {"transport_error": 8}}
    assert all("(after 2 attempt(s))" in o.detail for o in report.outcomes)


@pytest.mark.parametrize("mode", ["curl", "session"])
def test_an_error_in_a_lane_is_raised_not_swallowed(one_flow_mock, mode):
    def on_outcome(outcome):
        if outcome.status == "sent":
            raise RuntimeError("a bug in the outcome handler")

    destination = lanes(one_flow_mock, 4, mode)
    destination.on_outcome = on_outcome
    with pytest.raises(RuntimeError, match="a bug in the outcome handler"):
        destination.send([{"type": "track", "event": "A", "anonymousId": "d", "messageId": "m"}])
    destination.close()


def test_track_bodies_are_the_wire_bodies_at_any_concurrency(one_flow_mock):
    events = [{"type": "track", "event": f"E{i}", "anonymousId": "solo", "messageId": f"m{i}",
               "timestamp": "2026-11-24T06:00:00Z"} for i in range(5)]
    destination = lanes(one_flow_mock, 8)
    destination.send(events)
    destination.close()
    (track,) = one_flow_mock.requests(path="*/v3/track")
    assert [e["_id"] for e in track["body"]["events"]] == [wire.object_id(f"m{i}") for i in range(5)]
