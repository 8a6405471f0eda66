"""The Segment ingest with its delivery ledger in Redis: two instances behind one write key
never deliver one messageId twice, however the Segment client's retries race across them,
over real sockets."""

from __future__ import annotations

import base64
import json
import threading

from tests.redis.servers import call, mocks

WRITE_KEY = "segment_wk_acme"  # the embedded projects file's source for oneflow_prod_acme
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}


def event(i: int) -> dict:
    return {"type": "track", "messageId": f"msg-{i}", "anonymousId": f"anon-{i % 3}", "event": "Order Completed",
            "timestamp": "2026-11-24T06:00:00.000Z", "properties": {"revenue": i}}


def delivered_track_events(port: int) -> list[str]:
    """The event names of every /v3/track call the ingest made, as journaled (on either instance)."""
    _, journal = call(port, "GET", "/__admin/requests?path=*/v3/track")
    names = []
    for entry in journal["requests"]:
        assert entry["via"] == f"segment:{WRITE_KEY}"
        body = entry["body"] if isinstance(entry["body"], dict) else json.loads(entry["body"])
        names += [e["name"] for e in body["events"]]
    return names


def test_two_instances_racing_on_one_batch_deliver_each_message_id_once(redis_url):
    batch = {"batch": [event(i) for i in range(12)]}
    with mocks(redis_url, 2) as ports:
        statuses: list[int] = []

        def send(port: int) -> None:
            statuses.append(call(port, "POST", "/v1/batch", batch, AUTH)[0])

        threads = [threading.Thread(target=send, args=(port,)) for port in ports * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 6

        names = delivered_track_events(ports[0])
        assert len(names) == 12  # not 12 per instance, nor per request
        for port in ports:  # one ledger: each messageId once, sent, one attempt
            _, deliveries = call(port, "GET", "/__admin/deliveries")
            assert deliveries["total"] == 12
            assert sorted(d["message_id"] for d in deliveries["deliveries"]) == sorted(f"msg-{i}" for i in range(12))
            assert {(d["status"], d["attempts"]) for d in deliveries["deliveries"]} == {("sent", 1)}
        summaries = [e["delivery"] for e in call(ports[1], "GET", "/__admin/requests?path=/v1/batch")[1]["requests"]]
        assert sum(s["sent"] for s in summaries) == 12 and sum(s["duplicates"] for s in summaries) == 12 * 5

        # a reset through one forgets the ledger on both: the batch is delivered again, once
        assert call(ports[1], "POST", "/__admin/reset")[0] == 200
        assert call(ports[0], "POST", "/v1/batch", batch, AUTH)[0] == 200
        assert call(ports[1], "POST", "/v1/batch", batch, AUTH)[0] == 200
        assert len(delivered_track_events(ports[1])) == 12


def test_an_async_batch_whose_instance_dies_is_delivered_by_the_other(redis_url):
    """The ``async`` queue is in Redis: the first instance accepts a batch, its first
    delivery fails (a fault), and it is killed before the retry; the second instance,
    which never saw the batch, delivers it."""
    import signal
    import time

    import redis

    from tests.redis.conftest import free_port
    from tests.redis.servers import start, stop, wait_ready

    args = ("--store", redis_url, "--ingest-delivery", "async", "--ingest-retry-speedup", "60")  # first retry 0.5-1.5 s
    ports = [free_port(), free_port()]
    first, second = (start("--port", str(port), *args) for port in ports)
    try:
        for port, process in zip(ports, (first, second)):
            wait_ready(port, process)
        fault = call(ports[0], "POST", "/__admin/faults", {"path": "/v3/track", "status": 503, "times": 1})[1]["fault"]
        batch = {"batch": [event(i) for i in range(4)]}
        assert call(ports[0], "POST", "/v1/batch", batch, AUTH)[0] == 200
        deadline = time.monotonic() + 10
        shared = redis.Redis.from_url(redis_url)
        while not (any(d["status"] == "retrying" for d in call(ports[1], "GET", "/__admin/deliveries")[1]["deliveries"])
                   and shared.zcard("m1f:queue") == 1 and shared.zcard("m1f:qwork") == 0):  # the retry queued, not in work
            assert time.monotonic() < deadline, "the first delivery never ended"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)  # the first attempt recorded, before its retry is due; its worker dies with it
        assert [f["hits"] for f in call(ports[1], "GET", "/__admin/faults")[1]["faults"] if f["id"] == fault["id"]] == [1]
        first.wait(10)
        deadline = time.monotonic() + 15
        while True:
            deliveries = call(ports[1], "GET", "/__admin/deliveries")[1]["deliveries"]
            if len(deliveries) == 4 and {d["status"] for d in deliveries} == {"sent"}:
                break
            assert time.monotonic() < deadline, [(d["status"], d["attempts"], d.get("reason")) for d in deliveries]
            time.sleep(0.05)
        assert sorted(d["message_id"] for d in deliveries) == [f"msg-{i}" for i in range(4)]
        # the events of the call the fault failed (one device's) were sent on the retry, by the second instance
        assert sorted(d["message_id"] for d in deliveries if d["attempts"] == 2) == ["msg-0", "msg-3"]
        stored = call(ports[1], "GET", "/__admin/projects/oneflow_prod_acme/events")[1]["events"]
        assert len(stored) == 4  # each once
    finally:
        stop(first)
        stop(second)
