"""``mock-1flow serve`` under stalls, latency faults and kills, over real sockets: the
admin API keeps answering, a stalled body times out, the worker lives and dies with serve,
and a restart on the same port works right after traffic."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

TRACK = "/us/api/2021-06-15/v3/track"
KEY = "oneflow_prod_acme"


def track_body() -> bytes:
    event = {"name": "Order Completed", "time": 1764000000, "_id": os.urandom(12).hex()}
    return json.dumps({"user_id": "u", "events": [event]}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def listening(port: int) -> bool:
    """Whether any socket listens on ``port`` (from /proc/net/tcp*, state 0A = LISTEN)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def holders(port: int) -> list[str]:
    """For a failure message: the processes whose sockets listen on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if any(os.readlink(fd).strip("socket:[]") in inodes for fd in (proc / "fd").iterdir()):
                    found.append(f"{proc.name}: {(proc / 'cmdline').read_bytes()[:120]!r}")
            except OSError:
                continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 5) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else {}


def wait_health(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if request(port, "GET", "/__admin/health", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("mock-1flow serve did not answer")


class Served:
    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_1flow", "serve", "--port", str(self.port), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        wait_health(self.port, self.process)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def serve():
    started: list[Served] = []

    def start(*args: str, port: int | None = None) -> Served:
        started.append(Served(*args, port=port))
        return started[-1]

    yield start
    for served in started:
        served.stop()


def stalled(port: int, path: str, extra: str = "") -> socket.socket:
    """Headers promising 1000 bytes of body, then only a fragment."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}"
        "Content-Length: 1000\r\n\r\n{\"user_id\":".encode()
    )
    return sock


def test_the_admin_api_answers_within_a_second_behind_64_stalled_bodies(serve):
    mock = serve()
    sockets = [stalled(mock.port, TRACK if n % 2 else "/v1/batch", f"one_flow_key: {KEY}\r\n") for n in range(64)]
    try:
        time.sleep(0.3)
        started = time.monotonic()
        status, body = request(mock.port, "GET", "/__admin/health", timeout=1)
        assert status == 200 and body["status"] == "ok"
        assert time.monotonic() - started < 1.0
        status, _ = request(mock.port, "POST", TRACK, track_body(),
                            {"one_flow_key": KEY, "Content-Type": "application/json"}, timeout=1)
        assert status == 200
    finally:
        for sock in sockets:
            sock.close()


def test_a_stalled_body_gets_408_and_is_journaled(serve):
    mock = serve("--body-timeout", "0.5")
    sock = stalled(mock.port, TRACK, f"one_flow_key: {KEY}\r\n")
    sock.settimeout(5)
    try:
        head = sock.recv(4096).decode()
    finally:
        sock.close()
    assert head.startswith("HTTP/1.1 408") and '"error":"body_timeout"' in head
    entries = request(mock.port, "GET", "/__admin/requests")[1]["requests"]
    assert [(e["status"], e["error"]) for e in entries] == [(408, "body_timeout")]


def test_clearing_faults_is_not_blocked_by_a_sleeping_request(serve):
    mock = serve("--fault", "path=/v3/track,latency_ms=60000")
    body = track_body()
    sleepers = [
        threading.Thread(target=lambda: _ignore(request, mock.port, "POST", TRACK, body,
                                                 {"one_flow_key": KEY, "Content-Type": "application/json"}, 3), daemon=True)
        for _ in range(8)
    ]
    for sleeper in sleepers:
        sleeper.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert request(mock.port, "DELETE", "/__admin/faults", timeout=1)[0] == 200
    assert time.monotonic() - started < 1.0
    assert request(mock.port, "GET", "/__admin/faults", timeout=1)[1] == {"faults": []}


def test_a_latency_fault_on_a_flask_route_holds_no_pool_thread(serve):
    """The Flask routes' pool has one thread by default; a request sleeping in a latency
    fault on /v1/track must not make the next Segment call wait for it."""
    mock = serve("--fault", '{"path": "/v1/track", "latency_ms": 4000, "times": 1}')
    segment = {"Content-Type": "application/json"}

    def call(message_id: str) -> tuple[int, dict]:
        body = json.dumps({"writeKey": "segment_wk_acme", "type": "track", "event": "Order Completed",
                           "userId": "u-1", "messageId": message_id}).encode()
        return request(mock.port, "POST", "/v1/track", body, segment, timeout=10)

    sleeper = threading.Thread(target=lambda: call("m-sleeps"), daemon=True)
    sleeper.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert call("m-next") == (200, {"success": True})
    assert time.monotonic() - started < 2.0
    sleeper.join(10)
    entries = request(mock.port, "GET", "/__admin/requests?path=/v1/track")[1]["requests"]
    slept = [e for e in entries if e["fault"] is not None]
    assert len(slept) == 1 and slept[0]["status"] == 200 and slept[0]["duration_ms"] >= 4000


def _ignore(call, *args):
    try:
        call(*args)
    except OSError:
        pass


def test_serve_restarts_on_the_same_port_right_after_traffic(serve):
    first = serve()
    connections = []
    for _ in range(20):  # keep-alive connections the server closes on shutdown (TIME_WAIT on its side)
        connection = http.client.HTTPConnection("127.0.0.1", first.port, timeout=5)
        connection.request("GET", "/__admin/health")
        connection.getresponse().read()
        connections.append(connection)
    first.stop()
    second = serve(port=first.port)
    assert request(second.port, "GET", "/__admin/health")[0] == 200


def test_a_port_in_use_is_still_refused(serve):
    first = serve()
    refused = subprocess.run([sys.executable, "-m", "mock_1flow", "serve", "--port", str(first.port)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "cannot listen" in refused.stderr + refused.stdout


def test_sigkill_of_serve_takes_its_worker_down_too(serve):
    mock = serve()
    workers = children(mock.process.pid)
    assert workers and listening(mock.port)
    os.kill(mock.process.pid, signal.SIGKILL)
    mock.process.wait(timeout=5)
    deadline = time.monotonic() + 10  # a dying multi-threaded worker closes its sockets with its last thread
    while time.monotonic() < deadline and (any(alive(pid) for pid in workers) or listening(mock.port)):
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
    assert not listening(mock.port), holders(mock.port)


def test_a_worker_that_dies_is_started_again(serve):
    mock = serve()
    for pid in children(mock.process.pid):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    wait_health(mock.port, mock.process)
    assert mock.process.poll() is None
    status, _ = request(mock.port, "POST", TRACK, track_body(),
                        {"one_flow_key": KEY, "Content-Type": "application/json"})
    assert status == 200


def test_one_flow_key_with_dashes_is_not_the_key_and_is_warned_about(serve):
    mock = serve()
    status, body = request(mock.port, "POST", TRACK, track_body(),
                           {"one-flow-key": KEY, "Content-Type": "application/json"})
    assert (status, body["error"]) == (404, "missing_key")
    entry = request(mock.port, "GET", "/__admin/requests")[1]["requests"][-1]
    assert "one-flow-key" in entry["warning"] and entry["request_headers"]["one-flow-key"] == KEY
