"""``assert_*(timeout=...)``: a test of an asynchronous forwarder polls instead of sleeping,
and a timed-out assertion still says what the mock received."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from mock_1flow.testing import MockServer

KEY = "oneflow_prod_acme"


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _reset(mock: MockServer) -> None:
    mock.reset()


def forward_later(mock: MockServer, go: threading.Event) -> threading.Thread:
    """A forwarder that sends an identify and a track once ``go`` is set (as a queue flushed by another thread)."""

    def run() -> None:
        go.wait(30)
        base, headers = mock.base("us"), {"one_flow_key": KEY}
        anon = requests.post(f"{base}/v3/user", json={"user_id": "device-1"}, headers=headers, timeout=10).json()
        analytic_id = anon["result"]["analytic_user_id"]
        requests.post(f"{base}/v3/identify", headers=headers, timeout=10, json={
            "anonymous_user_id": analytic_id, "user_id": "user-1", "parameters": {"plan": "pro"}}).raise_for_status()
        requests.post(f"{base}/v3/track", headers=headers, timeout=10, json={"user_id": analytic_id, "events": [
            {"name": "Order Completed", "time": 1764000000, "plt": "w", "_id": "0123456789abcdef01234567"}]}).raise_for_status()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_assertions_wait_for_what_arrives_later(mock: MockServer) -> None:
    go = threading.Event()
    thread = forward_later(mock, go)
    with pytest.raises(AssertionError, match="found 0"):
        mock.assert_tracked(KEY, name="Order Completed", count=1)  # no timeout: checked once, nothing yet
    go.set()
    assert len(mock.assert_tracked(KEY, name="Order Completed", count=1, timeout=30)) == 1
    assert mock.assert_identified(KEY, "user-1", parameters={"plan": "pro"}, timeout=30)["user_id"] == "user-1"
    assert [e["status"] for e in mock.assert_requests(path="*/v3/track", count=1, status=200, timeout=30)] == [200]
    thread.join(30)


def test_a_timed_out_assertion_says_what_was_received(mock: MockServer) -> None:
    go = threading.Event()
    go.set()
    forward_later(mock, go).join(30)
    with pytest.raises(AssertionError, match=r"expected 2 event\(s\) named 'Order Completed' in oneflow_prod_acme, found 1; "
                                             r"oneflow_prod_acme received 1: Order Completed x1 \(still so after waiting 0.2 s\)"):
        mock.assert_tracked(KEY, name="Order Completed", count=2, timeout=0.2)
    with pytest.raises(AssertionError, match=r"expected user 'user-2' identified in oneflow_prod_acme; its users: "
                                             r"user-1 identified \(still so after waiting 0.2 s\)"):
        mock.assert_identified(KEY, "user-2", timeout=0.2)
    with pytest.raises(AssertionError, match=r"expected 1 request\(s\) with path=\*/v3/track, status=400, found 0; the journal has 3: "
                                             r"POST /us/api/2021-06-15/v3/user 200; .* \(still so after waiting 0.2 s\)"):
        mock.assert_requests(path="*/v3/track", count=1, status=400, timeout=0.2)


def test_find_and_count_take_the_journal_criteria(mock: MockServer) -> None:
    go = threading.Event()
    go.set()
    forward_later(mock, go).join(30)
    assert mock.count(path="*/v3/*", status=200) == 3
    assert [e["path"] for e in mock.find(path="*/v3/identify")] == ["/us/api/2021-06-15/v3/identify"]
    assert mock.assert_requests(body_contains="Order Completed", count=1)[0]["path"].endswith("/v3/track")
