"""``serve --state-file``: a SIGKILL keeps every acknowledged write that reached the file
(written within 0.2 s of the answer), over a real socket, with writes still arriving when
the kill lands; the restarted mock has the same users, merges, events and projects."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

from ..conftest import US_KEY
from ..unit.test_serve import free_port, raw_post, start, stop, wait_ready

BASE = "/us/api/2021-06-15"
KEY = {"one_flow_key": US_KEY}


def event(number: int) -> dict:
    return {"name": "Opened", "time": 1764000000, "parameters": {"n": number}, "plt": "i", "_id": f"{number:024x}"}


def get_json(port: int, path: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200
    return json.loads(response.read())


def served_state(state_file: Path) -> dict:
    """The ``GET /__admin/state`` document of a fresh ``serve --state-file`` on this file."""
    port = free_port()
    process = start("--port", str(port), "--state-file", str(state_file))
    try:
        wait_ready(port, process)
        return get_json(port, "/__admin/state")
    finally:
        stop(process)


def poll(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def write_some(port: int, first: int, count: int) -> tuple[dict[str, str], set[str]]:
    """Devices (each identified as an app user) and one event per device; returns the
    analytic id each app user ended with and the ids of the acknowledged events."""
    users, events = {}, set()
    for number in range(first, first + count):
        status, body = raw_post(port, f"{BASE}/v3/user", {"user_id": f"device-{number}"}, KEY)
        assert status == 200
        status, body = raw_post(port, f"{BASE}/v3/identify", {"anonymous_user_id": body["result"]["analytic_user_id"],
                                "user_id": f"user-{number}", "log_user": True, "parameters": {"n": number}}, KEY)
        assert status == 200
        users[f"user-{number}"] = analytic = body["result"]["analytic_user_id"]
        status, _ = raw_post(port, f"{BASE}/v3/track", {"user_id": analytic, "events": [event(number)]}, KEY)
        assert status == 200
        events.add(event(number)["_id"])
    return users, events


def test_sigkill_keeps_the_acknowledged_writes_that_reached_the_file(tmp_path: Path):
    state_file = tmp_path / "state.log"
    port = free_port()
    process = start("--port", str(port), "--state-file", str(state_file))
    try:
        wait_ready(port, process)
        status, _ = raw_post(port, "/__admin/projects", {"key": "oneflow_prod_crash", "name": "Crash", "region": "us",
                                                         "plan": "free"}, {})
        assert status == 201
        users, events = write_some(port, 0, 60)
        last = event(59)["_id"].encode()
        poll(lambda: last in state_file.read_bytes())  # the writer thread flushes every 0.2 s
        stopping = threading.Event()
        late: list[int] = []

        def keep_writing() -> None:  # writes still arriving when the kill lands
            number = 1000
            while not stopping.is_set():
                try:
                    raw_post(port, f"{BASE}/v3/track", {"user_id": users["user-0"], "events": [event(number)]}, KEY)
                except OSError:
                    return
                late.append(number)
                number += 1

        writer = threading.Thread(target=keep_writing)
        writer.start()
        poll(lambda: len(late) >= 20)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        stopping.set()
        writer.join(timeout=30)
        poll(lambda: port_free(port))
    finally:
        stop(process)

    port = free_port()
    process = start("--port", str(port), "--state-file", str(state_file))
    try:
        wait_ready(port, process)
        state = get_json(port, "/__admin/state")
        assert "oneflow_prod_crash" in [project["key"] for project in state["projects"]]
        data = state["state"][US_KEY]
        stored = {stored["_id"] for stored in data["events"]}
        assert events <= stored, f"lost {len(events - stored)} acknowledged events"
        assert data["app_users"] == users
        assert all(f"device-{number}" in data["devices"] for number in range(60))
        # the late writes are there in order up to wherever the kill cut them
        late_ids = [event(number)["_id"] for number in late]
        kept = [event_id for event_id in late_ids if event_id in stored]
        assert kept == late_ids[: len(kept)]
        # the mock goes on from the replayed state: the same device keeps its user
        status, body = raw_post(port, f"{BASE}/v3/user", {"user_id": "device-7"}, KEY)
        assert (status, body["result"]["analytic_user_id"]) == (200, users["user-7"])
    finally:
        stop(process)
    assert process.returncode == 0
