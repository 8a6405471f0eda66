"""Small server fixes, over real sockets: the admin lists share one ``limit`` rule, ``GET /``
points at ``/__admin/``, the spec's timestamps are the ones the server takes, integers of
hundreds of digits are kept exactly, and a reset is a barrier for the Segment ingest's
deliveries in flight."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
import requests
from hypothesis import given, settings, strategies as st

from mock_1flow.server.spec import load_spec
from mock_1flow.testing import MockServer

ACME = {"one_flow_key": "oneflow_prod_acme"}


@pytest.fixture(scope="module")
def mock():
    with MockServer() as server:
        yield server


@pytest.mark.parametrize("path", ["/__admin/requests", "/__admin/deliveries"])
@pytest.mark.parametrize("limit, status", [("0", 400), ("-1", 400), ("x", 400), ("1", 200), ("1000000", 200),
                                           ("1000001", 400)])
def test_the_admin_lists_take_limit_alike(mock, path, limit, status):
    reply = requests.get(f"{mock.url}{path}", params={"limit": limit}, timeout=10)
    assert reply.status_code == status, reply.text
    if status == 400:
        assert reply.json()["error"] == "invalid_request" and "limit" in reply.json()["message"]


def test_the_root_points_at_the_admin_api(mock):
    reply = requests.get(mock.url + "/", timeout=10)
    assert reply.status_code == 404 and reply.json()["error"] == "unknown_endpoint"
    assert "/__admin/" in reply.json()["message"] and "/openapi.yaml" in reply.json()["message"]


def timestamp_pattern() -> str:
    return load_spec()["components"]["schemas"]["IsoTimestamp"]["pattern"]


@settings(max_examples=300, deadline=None)
@given(st.from_regex(timestamp_pattern(), fullmatch=True))
def test_every_timestamp_the_spec_allows_is_one_the_server_reads(text):
    datetime.fromisoformat(text)  # the server's parser (routes/http_api.py _epoch): must not raise


@pytest.mark.parametrize("timestamp, status", [("2023-04-31T00:00:00Z", 400), ("2023-02-29T00:00:00Z", 400),
                                               ("1900-02-29T00:00:00Z", 400), ("2024-02-29T00:00:00Z", 200),
                                               ("2000-02-29T00:00:00Z", 200), ("2023-04-30T23:59:59.5+05:30", 200)])
def test_the_server_and_the_spec_agree_on_dates(mock, timestamp, status):
    reply = requests.post(mock.http_api_base() + "/identify", json={"user_id": "when", "timestamp": timestamp},
                          headers={"api_key": "oneflow_prod_acme"}, timeout=10)
    assert reply.status_code == status, reply.text
    if status == 400:
        assert reply.json()["error"] == "invalid_request"


def test_integers_of_hundreds_of_digits_are_kept_exactly(mock):
    big = "9" * 400
    user = requests.post(mock.base() + "/v3/user", json={"user_id": "big"}, headers=ACME, timeout=10).json()
    analytic = user["result"]["analytic_user_id"]
    body = f'{{"user_id": "{analytic}", "events": [{{"name": "Big", "time": 1, "_id": "{"b" * 24}", "plt": "w", ' \
           f'"parameters": {{"n": {big}}}}}]}}'
    reply = requests.post(mock.base() + "/v3/track", data=body, headers={**ACME, "Content-Type": "application/json"},
                          timeout=10)
    assert reply.status_code == 200, reply.text
    stored = requests.get(f"{mock.url}/__admin/projects/oneflow_prod_acme/events", timeout=10)
    assert f'"n":{big}' in stored.text.replace(" ", "")
    too_long = body.replace(big, "9" * 5000)
    refused = requests.post(mock.base() + "/v3/track", data=too_long, headers={**ACME, "Content-Type": "application/json"},
                            timeout=10)
    assert refused.status_code == 400 and "4,300 digits" in refused.json()["message"]


def test_a_reset_is_a_barrier_for_a_delivery_in_flight():
    with MockServer() as mock:
        # The delivery registers the device, then its /v3/track is held 3 s by a latency fault:
        # the reset comes while it is held, and nothing of that delivery may land after it.
        mock.add_fault(path="/v3/track", latency_ms=3000)
        answers = []

        def segment_track():
            answers.append(requests.post(mock.url + "/v1/track", json={
                "writeKey": "segment_wk_acme", "type": "track", "event": "Held", "anonymousId": "held-device",
                "messageId": "held"}, timeout=30))

        sender = threading.Thread(target=segment_track)
        sender.start()
        until = time.monotonic() + 20
        while not mock.requests(path="*/v3/user") and time.monotonic() < until:
            time.sleep(0.02)
        assert mock.requests(path="*/v3/user"), "the delivery did not start"
        mock.reset()  # waits for the held call: it stores into the state being forgotten
        sender.join(timeout=30)
        assert answers and answers[0].status_code == 200, answers and answers[0].text  # not retried into the new state
        assert mock.events("oneflow_prod_acme") == [] and mock.users("oneflow_prod_acme") == []
        # and the next delivery after the reset is stored as usual
        requests.post(mock.url + "/v1/track", json={"writeKey": "segment_wk_acme", "type": "track", "event": "After",
                                                    "anonymousId": "d2", "messageId": "after"}, timeout=30)
        assert [e["name"] for e in mock.events("oneflow_prod_acme")] == ["After"]
