"""The Segment ingest served on the hot path (``mock-1flow serve``, RSGI): a sync delivery
whose inner 1Flow call sleeps in a latency fault runs off the event loop, so the SDK API
and the admin API keep answering meanwhile; and when a request may wait at all."""

from __future__ import annotations

import json
import threading
import time

from mock_1flow.app import create_app
from mock_1flow.server.hotpath import Request
from tests.unit.server.test_serving import KEY, TRACK, request, serve, track_body  # noqa: F401  (serve: a fixture)

SEGMENT = {"Content-Type": "application/json"}


def segment_batch(port: int, message_id: str, timeout: float = 10) -> tuple[int, dict]:
    body = json.dumps({"writeKey": "segment_wk_acme", "batch": [
        {"type": "track", "event": "Order Completed", "anonymousId": "dev-1", "messageId": message_id}]}).encode()
    return request(port, "POST", "/v1/batch", body, SEGMENT, timeout=timeout)


def test_a_sync_delivery_sleeping_in_an_inner_latency_fault_does_not_stall_the_sdk_api(serve):
    mock = serve("--fault", '{"path": "/v3/track", "latency_ms": 3000, "times": 1}')
    answers: list[tuple[int, dict]] = []
    sleeper = threading.Thread(target=lambda: answers.append(segment_batch(mock.port, "m-sleeps")), daemon=True)
    sleeper.start()
    deadline = time.monotonic() + 5
    while request(mock.port, "GET", "/__admin/faults")[1]["faults"][0]["hits"] == 0:  # the inner call is asleep
        assert time.monotonic() < deadline, "the Segment request never reached its inner track call"
        time.sleep(0.02)
    status, _ = request(mock.port, "POST", TRACK, track_body(), {"one_flow_key": KEY, **SEGMENT}, timeout=5)
    assert status == 200
    assert sleeper.is_alive()  # answered while the Segment request still sleeps
    sleeper.join(10)
    assert answers == [(200, {"success": True})]
    entries = request(mock.port, "GET", "/__admin/requests?path=/v1/batch")[1]["requests"]
    assert [(e["status"], e["project"], e["delivery"]["sent"]) for e in entries] == [(200, "oneflow_prod_acme", 1)]


def _request(body: bytes) -> Request:
    return Request("POST", "/v1/batch", "", (("content-type", "application/json"),), None, "localhost",
                   "application/json", len(body), True, None, body)


def test_a_request_may_wait_only_when_a_sync_delivery_can(tmp_path):
    app = create_app()
    hot = app.wsgi_app
    match = hot.route("POST", "/v1/batch", "localhost")
    surface = match.surface
    assert surface is not None and match.operation.operation_id == "segmentBatch"
    body = b'{"batch": []}'
    assert not surface.blocking(_request(body))  # sync, but no fault and an idle worker: on the loop
    app.test_client().post("/__admin/faults", json={"path": "/v3/track", "latency_ms": 10})
    assert surface.blocking(_request(body))  # an inner call may sleep
    async_app = create_app(ingest_delivery="async")
    async_app.test_client().post("/__admin/faults", json={"path": "/v3/track", "latency_ms": 10})
    assert not async_app.wsgi_app.route("POST", "/v1/batch", "localhost").surface.blocking(_request(body))
