"""``mock-1flow serve --replay`` over real sockets, with recordings made through the proxy
(conftest.py): recorded requests get their recorded answers, volatile fields aside; the rest
falls to the mock or, strict, is 404 ``not_recorded``; no network connection is ever opened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.proxy.test_proxy import BY_ID, call, corpus, journal
from tests.unit.test_serve import free_port, start, stop, wait_ready

KEY_MAP = ("--key-map", "<key-1>=oneflow_prod_acme")
HOSTS = ("--host-region", "127.0.0.1=us", "--http-api-host", "127.0.0.1=us")  # 127.0.0.1 is 1Flow's hosts, as upstream


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def replaying(recordings, request):
    port = free_port()
    process = start("--port", str(port), "--replay", str(recordings.both), *KEY_MAP, *HOSTS, *getattr(request, "param", ()))
    try:
        wait_ready(port, process)
        yield port
    finally:
        stop(process)


def test_a_recorded_request_gets_its_recorded_answer_and_the_first_of_two_says_so(replaying, recordings):
    recorded = lines(recordings.both)
    status, body = corpus(replaying, "ios-add-user")
    # the upstream's analytic_user_id of the first (faithful) recording, not one the mock makes
    assert (status, body) == (200, recorded[0]["response"]["body"])
    note = journal(replaying)[-1]["warning"]
    assert f"replayed {recordings.both}:1" in note and "2 recordings match, the first answered (also lines 8)" in note


def test_volatile_fields_are_ignored_and_other_differences_are_not(replaying, recordings):
    request = BY_ID["ios-track"]
    body = json.loads(request.data())
    for index, event in enumerate(body["events"]):
        event["_id"], event["time"] = f"0123456789abcdef0123456{index}", 1999999999
    headers = request.headers
    status, answer = call(replaying, "POST", request.path, json.dumps(body).encode(), headers)
    assert (status, answer) == (200, lines(recordings.both)[2]["response"]["body"])
    assert journal(replaying)[-1]["warning"].startswith(f"replayed {recordings.both}:3")
    body["events"][0]["name"] = "not recorded"
    status, answer = call(replaying, "POST", request.path, json.dumps(body).encode(), headers)
    assert status == 200 and answer["result"] == {"stored": len(body["events"]), "duplicates": 0}  # the mock's answer
    assert journal(replaying)[-1]["warning"] is None


def test_what_is_not_recorded_falls_back_to_the_mock(replaying):
    status, body = corpus(replaying, "ios-get-survey")
    assert status == 200 and body["result"]["_id"] == "64b7c0de5f1e2a0012ab34cd"
    # a key other than the one --key-map gives <key-1> is not the recorded request either
    request = BY_ID["ios-list-surveys"]
    status, body = call(replaying, "GET", request.path + (f"?{request.query}" if request.query else ""), None,
                        {**request.headers, "one_flow_key": "no_such_key"})
    assert (status, body["error"]) == (404, "unknown_key")


@pytest.mark.parametrize("replaying", [("--replay-strict",)], indirect=True)
def test_strict_answers_404_not_recorded_naming_the_closest_recording(replaying, recordings):
    request = BY_ID["ios-identify"]
    body = json.loads(request.data())
    body["parameters"]["plan"] = "enterprise"
    status, answer = call(replaying, "POST", request.path, json.dumps(body).encode(), request.headers)
    assert (status, answer["error"]) == (404, "not_recorded")
    assert answer["closest"] == {"line": 4, "id": "recorded-4", "method": "POST", "path": request.path,
                                 "differs": "its body differs at /parameters/plan"}
    assert "line 4" in answer["message"] and "--replay-strict" in answer["message"]
    assert corpus(replaying, "ios-get-survey")[1]["error"] == "not_recorded"


GUARD = '''
import os, socket
_log = os.environ["NO_NETWORK_LOG"]
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
def _refuse(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        with open(_log, "a") as log:
            log.write(f"{os.getpid()} connect {address}\\n")
        raise PermissionError(1, f"network blocked by the test: connect {address}")
def connect(self, address):
    _refuse(self, address)
    return _connect(self, address)
def connect_ex(self, address):
    _refuse(self, address)
    return _connect_ex(self, address)
socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
'''


def _blocked(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    """A mock-1flow command whose processes (granian's worker too) cannot connect anywhere:
    a sitecustomize refuses every IPv4/IPv6 connect and logs the attempt."""
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(textwrap.dedent(GUARD), encoding="utf-8")
    log = tmp_path / "connects.log"
    env = {**os.environ, "NO_NETWORK_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "guard"), *filter(None, [os.environ.get("PYTHONPATH")]), os.getcwd()])}
    process = subprocess.Popen([sys.executable, "-m", "mock_1flow", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env)
    return process, log


def test_replay_opens_no_network_connection(recordings, tmp_path):
    port = free_port()
    process, log = _blocked(tmp_path, "serve", "--port", str(port), "--replay", str(recordings.both), *KEY_MAP)
    try:
        wait_ready(port, process)
        for index, request_id in enumerate(("ios-add-user", "ios-list-surveys", "ios-track")):
            assert corpus(port, request_id)[1] == lines(recordings.both)[index]["response"]["body"]
        assert call(port, "POST", "/v1/identify", json.dumps({"user_id": "u-7", "traits": {"plan": "pro"}}).encode(),
                    {"api_key": "oneflow_prod_acme", "Content-Type": "application/json"})[1] == lines(recordings.both)[6]["response"]["body"]
        assert all(entry["warning"].startswith("replayed ") for entry in journal(port))
    finally:
        stop(process)
    assert not log.exists(), log.read_text()


def test_the_network_guard_does_block_a_connection(tmp_path):
    """The guard above is no placebo: the proxy under it cannot reach even a loopback upstream."""
    upstream, port = free_port(), free_port()
    served = start("--port", str(upstream))
    process, log = _blocked(tmp_path, "proxy", "--port", str(port), "--upstream", f"http://127.0.0.1:{upstream}",
                            "--http-api-upstream", f"http://127.0.0.1:{upstream}")
    try:
        wait_ready(upstream, served)
        wait_ready(port, process)
        status, body = corpus(port, "ios-add-user")
        assert (status, body["error"]) == (502, "upstream_unreachable") and "network blocked" in body["message"]
    finally:
        stop(process)
        stop(served)
    assert f"'127.0.0.1', {upstream}" in log.read_text()


@pytest.mark.parametrize(("text", "says"), [
    ('{"method": "GET", "path": "/x", "response": {"status": 200}}\n{"method": "GET", "path": "/y", "respo\n', ":2: not a JSON line"),
    ('\n\n{"method": "GET", "path": "/x"}\n', ":3: 'response' must be an object"),
    ('{"method": "GET", "path": "x", "response": {"status": 200}}\n', ":1: 'path' must start with /"),
    ('[1, 2]\n', ":1: each line must be a JSON object"),
    ('{"method": "GET", "path": "/x", "response": {"status": 99}}\n', ":1: 'response.status' must be an HTTP status"),
    ("", ": no exchange in it"),
])
def test_a_malformed_recording_names_its_line_and_exits_2(tmp_path, text, says):
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mock_1flow", "serve", "--port", "0", "--replay", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and f"{path}{says}" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_an_unreadable_recording_and_a_bad_key_map_exit_2(tmp_path):
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b'{"method": "GET", "path": "/x", "response": {"status": 200}}\n\xff\xfe\x00 not text\n')
    for args, says in ((("--replay", str(tmp_path / "none.jsonl")), f"{tmp_path / 'none.jsonl'}: cannot be read"),
                       (("--replay", str(binary)), f"{binary}:2: not a JSON line"),
                       (("--key-map", "<key-1>=k"), "--key-map and --replay-strict go with --replay FILE"),
                       (("--replay", str(binary), "--key-map", "key1=k"), "is not a recording's key placeholder")):
        done = subprocess.run([sys.executable, "-m", "mock_1flow", "serve", "--port", "0", *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
