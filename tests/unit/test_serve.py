"""``mock-1flow serve`` over a real socket: granian keeps ``one_flow_key``, start-up prints
the region bases and project keys, SIGTERM stops it, bad configuration is refused."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mock_1flow", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_ready(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("mock-1flow serve did not start")


def raw_post(port: int, path: str, body: dict, headers: dict) -> tuple[int, dict]:
    """http.client sends header names exactly as given (underscores included)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def stop(process: subprocess.Popen) -> None:
    """SIGTERM lets granian stop its worker too; SIGKILL would orphan it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)  # a busy machine (2 cores, parallel suites) needs the time
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def served():
    port = free_port()
    process = start("--port", str(port))
    try:
        wait_ready(port, process)
        yield port, process
    finally:
        stop(process)


def test_the_key_header_with_underscores_arrives_over_a_real_socket(served):
    port, _ = served
    status, body = raw_post(port, "/us/api/2021-06-15/v3/user", {"user_id": "device-1"}, {"one_flow_key": "oneflow_prod_acme"})
    assert status == 200 and len(body["result"]["analytic_user_id"]) == 24
    status, body = raw_post(port, "/us/api/2021-06-15/v3/user", {"user_id": "device-1"}, {})
    assert (status, body["error"]) == (404, "missing_key")


def test_start_up_prints_bases_and_keys_and_sigterm_stops_cleanly(served):
    port, process = served
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert f"us: http://127.0.0.1:{port}/us/api/2021-06-15" in output
    assert f"eu: http://127.0.0.1:{port}/eu/api/2021-06-15" in output
    for key in ("oneflow_prod_acme", "oneflow_prod_globex"):
        assert key in output
    assert "Traceback" not in output


def test_a_busy_port_is_refused(served):
    port, _ = served
    second = start("--port", str(port))
    output, _ = second.communicate(timeout=30)
    assert second.returncode != 0 and "cannot listen" in output


def test_a_malformed_projects_file_is_refused_at_start(tmp_path):
    path = tmp_path / "projects.yaml"
    path.write_text("plans:\n  free: {regions: [us]}\nprojects:\n  - {key: k, name: N, region: mars, plan: free}\n")
    process = start("--port", str(free_port()), "--projects", str(path))
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "line 4" in output and "projects[0].region" in output and "Traceback" not in output


def test_backend_profile_flag(tmp_path):
    port = free_port()
    process = start("--port", str(port), "--error-profile", "backend")
    try:
        wait_ready(port, process)
        status, body = raw_post(port, "/us/api/2021-06-15/v3/user", {"user_id": "d"}, {"one_flow_key": "nope"})
        assert (status, body["error"]) == (401, "invalid_key")
    finally:
        stop(process)


def test_fault_flag_injects_from_start_and_reset_keeps_it():
    port = free_port()
    process = start("--port", str(port), "--fault", "path=/v3/user,status=503,times=1")
    try:
        wait_ready(port, process)
        status, body = raw_post(port, "/us/api/2021-06-15/v3/user", {"user_id": "d"}, {"one_flow_key": "oneflow_prod_acme"})
        assert (status, body["error"]) == (503, "injected_fault")
        status, _ = raw_post(port, "/us/api/2021-06-15/v3/user", {"user_id": "d"}, {"one_flow_key": "oneflow_prod_acme"})
        assert status == 200
        status, _ = raw_post(port, "/__admin/reset", {}, {})
        status, body = raw_post(port, "/us/api/2021-06-15/v3/user", {"user_id": "d"}, {"one_flow_key": "oneflow_prod_acme"})
        assert status == 503, "a reset re-installs the faults given at start-up"
    finally:
        stop(process)


def test_bad_fault_flag_is_a_usage_error():
    process = start("--port", str(free_port()), "--fault", "path=/v3/user,colour=red")
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2 and "colour" in output
