"""``mock-1flow proxy`` over real sockets, in front of a real second server: a ``mock-1flow
serve`` that maps 127.0.0.1 to the host form (as 1Flow's hosts are), made to deviate with a
stub; a TLS one with its own CA; a closed port; a slow one. No test leaves loopback."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mock_1flow.contracts.corpus import all_corpora
from tests.unit.test_serve import free_port, start, stop, wait_ready

BY_ID = {r.id: r for c in all_corpora() for r in c.requests}
ADMIN = {"X-Mock-1flow-Admin": "1", "Content-Type": "application/json"}
SECRETS = ("oneflow_prod_acme", "Bearer s3cr3t-token-xyz", "session=cookie-secret-42", "fcm-push-token-SECRET-777",
           "jane.doe@example.com")


def start_proxy(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mock_1flow", "proxy", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def call(port: int, method: str, target: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, target, body=body, headers=headers or {})
    reply = connection.getresponse()
    data = reply.read()
    return reply.status, json.loads(data) if data else None


def corpus(port: int, request_id: str) -> tuple[int, dict]:
    request = BY_ID[request_id]
    target = request.path + (f"?{request.query}" if request.query else "")
    return call(port, request.method, target, request.data(), request.headers)


def journal(port: int) -> list[dict]:
    return call(port, "GET", "/__admin/requests")[1]["requests"]


@pytest.fixture(scope="module")
def upstream():
    """A ``mock-1flow serve`` as the real 1Flow, made to deviate with a stub."""
    port = free_port()
    process = start("--port", str(port), "--host-region", "127.0.0.1=us", "--http-api-host", "127.0.0.1=us")
    try:
        wait_ready(port, process)
        yield port
    finally:
        stop(process)


@pytest.fixture
def proxy(upstream, request, tmp_path):
    extra = getattr(request, "param", ())
    port = free_port()
    url = f"http://127.0.0.1:{upstream}"
    process = start_proxy("--port", str(port), "--upstream", url, "--http-api-upstream", url,
                          "--record", str(tmp_path / "rec.jsonl"), "--access-log", *extra)
    try:
        wait_ready(port, process)
        yield port, upstream, tmp_path / "rec.jsonl", process
    finally:
        call(upstream, "DELETE", "/__admin/stubs", headers=ADMIN)
        stop(process)


def test_host_form_traffic_passes_through_with_the_key_header_as_sent(proxy):
    port, upstream, _, _ = proxy
    status, body = corpus(port, "ios-add-user")
    assert (status, body["success"]) == (200, 200) and len(body["result"]["analytic_user_id"]) == 24
    status, body = corpus(port, "android-list-surveys")
    assert status == 200
    seen = [e for e in journal(upstream) if e["path"] == "/api/2021-06-15/v3/user"][-1]
    assert "one_flow_key" in seen["request_headers"] and "one-flow-key" not in seen["request_headers"]
    mine = journal(port)
    assert [e["violations"] for e in mine] == [None, None] and mine[0]["status"] == 200


def test_path_form_and_http_api_are_forwarded(proxy):
    port, _, _, _ = proxy
    request = BY_ID["ios-add-user"]
    assert call(port, "POST", request.path_form(), request.data(), request.headers)[0] == 200
    status, body = call(port, "POST", "/v1/identify", json.dumps({"user_id": "u-1", "traits": {"plan": "pro"}}).encode(),
                        {"api_key": "oneflow_prod_acme", "Content-Type": "application/json"})
    assert (status, body["result"]["user_id"]) == (200, "u-1")


def test_an_off_spec_answer_is_a_violation_in_the_journal_and_the_access_log(proxy):
    port, upstream, _, process = proxy
    stub = {"request": {"method": "POST", "path": "/v3/user"},
            "response": {"status": 200, "json": {"success": 200, "message": "ok", "result": {"analytic_user_id": 42}}}}
    assert call(upstream, "POST", "/__admin/stubs", json.dumps(stub).encode(), ADMIN)[0] == 201
    status, body = corpus(port, "ios-add-user")
    assert status == 200 and body["result"]["analytic_user_id"] == 42  # passed on as it came
    violations = journal(port)[-1]["violations"]
    assert violations and violations[0]["side"] == "response" and violations[0]["pointer"].startswith("/result")
    stop(process)
    assert "off-spec POST /api/2021-06-15/v3/user response /result" in process.stdout.read()


def test_an_off_spec_request_is_a_violation_too(proxy):
    port, _, _, _ = proxy
    status, _ = call(port, "POST", "/api/2021-06-15/v3/user", b'{"no_user_id": 1}',
                     {"one_flow_key": "oneflow_prod_acme", "Content-Type": "application/json"})
    assert status == 400  # the upstream's own answer
    violations = journal(port)[-1]["violations"]
    assert violations[0] == {"side": "request", "pointer": "/user_id", "reason": violations[0]["reason"]}


@pytest.mark.parametrize("proxy", [("--errors",)], indirect=True)
def test_errors_answers_a_violating_exchange_502_upstream_off_spec(proxy):
    port, upstream, _, _ = proxy
    stub = {"request": {"method": "POST", "path": "/v3/user"},
            "response": {"status": 200, "json": {"success": 200, "message": "ok", "result": {}}}}
    call(upstream, "POST", "/__admin/stubs", json.dumps(stub).encode(), ADMIN)
    status, body = corpus(port, "ios-add-user")
    assert (status, body["error"]) == (502, "upstream_off_spec")
    assert "analytic_user_id" in body["message"] and body["violations"][0]["side"] == "response"
    assert journal(port)[-1]["status"] == 502


def test_a_refused_upstream_is_502_naming_it(tmp_path):
    port, closed = free_port(), free_port()
    process = start_proxy("--port", str(port), "--upstream", f"http://127.0.0.1:{closed}",
                          "--http-api-upstream", f"http://127.0.0.1:{closed}")
    try:
        wait_ready(port, process)
        status, body = corpus(port, "ios-add-user")
        assert (status, body["error"]) == (502, "upstream_unreachable") and str(closed) in body["message"]
    finally:
        stop(process)


def test_a_slow_upstream_is_504_not_a_hang(upstream):
    port = free_port()
    fault = {"path": "/v3/survey", "latency_ms": 4000}
    call(upstream, "POST", "/__admin/faults", json.dumps(fault).encode(), ADMIN)
    process = start_proxy("--port", str(port), "--upstream", f"http://127.0.0.1:{upstream}",
                          "--http-api-upstream", f"http://127.0.0.1:{upstream}", "--timeout", "0.5")
    try:
        wait_ready(port, process)
        status, body = corpus(port, "android-list-surveys")
        assert (status, body["error"]) == (504, "upstream_timeout")
    finally:
        call(upstream, "DELETE", "/__admin/faults", headers=ADMIN)
        stop(process)


def test_a_tls_upstream_needs_its_ca(tmp_path):
    up = free_port()
    upstream = start("--port", str(up), "--tls", "--tls-dir", str(tmp_path), "--host-region", "127.0.0.1=us")
    proxies = []
    try:
        wait_ready(up, upstream)
        for extra in (("--upstream-ca", str(tmp_path / "ca.pem")), ()):
            port = free_port()
            proxies.append(start_proxy("--port", str(port), "--upstream", f"https://127.0.0.1:{up}",
                                       "--http-api-upstream", f"https://127.0.0.1:{up}", *extra))
            wait_ready(port, proxies[-1])
            status, body = corpus(port, "ios-add-user")
            if extra:
                assert status == 200 and body["success"] == 200
            else:
                assert (status, body["error"]) == (502, "upstream_tls_error") and "--upstream-ca" in body["message"]
    finally:
        for process in proxies:
            stop(process)
        stop(upstream)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "http://", "http://no-such-host.invalid", "http://127.0.0.1:9/api"])
def test_a_bad_upstream_exits_2_before_start(url):
    done = subprocess.run([sys.executable, "-m", "mock_1flow", "proxy", "--port", "0", "--upstream", url,
                           "--http-api-upstream", "http://127.0.0.1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--upstream" in done.stderr and "Traceback" not in done.stderr


def test_the_recording_holds_no_secret(proxy):
    port, _, record, _ = proxy
    headers = {"one_flow_key": SECRETS[0], "Authorization": SECRETS[1], "Cookie": SECRETS[2],
               "Content-Type": "application/json"}
    user = call(port, "POST", "/api/2021-06-15/v3/user", json.dumps({"user_id": "d-9"}).encode(), headers)[1]
    analytic = user["result"]["analytic_user_id"]
    call(port, "POST", f"/api/2021-06-15/v3/user/device/{analytic}", json.dumps({"token": SECRETS[3]}).encode(), headers)
    call(port, "POST", "/api/2021-06-15/v3/identify", json.dumps(
        {"analytic_user_id": analytic, "system_id": "app-user-1", "parameters": {"email": SECRETS[4], "note": f"mail {SECRETS[4]}"}}).encode(), headers)
    call(port, "POST", "/v1/identify", json.dumps({"user_id": "u", "traits": {"phone": "+15550100"}}).encode(),
         {"api_key": SECRETS[0], "Content-Type": "application/json"})
    text = record.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 4
    for secret in SECRETS:
        assert secret not in text
    assert {line["headers"].get("one_flow_key") or line["headers"].get("api_key") for line in lines} == {"<key-1>"}
    assert lines[0]["operation"] == "addUser" and lines[0]["response"]["status"] == 200
    assert lines[0]["url"].endswith("/api/2021-06-15/v3/user") and lines[0]["upstream"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize("proxy", [("--record-keys", "--redact-json-path", "$.traits.phone")], indirect=True)
def test_record_keys_keeps_keys_and_a_json_path_is_masked(proxy):
    port, _, record, _ = proxy
    call(port, "POST", "/v1/identify", json.dumps({"user_id": "u", "traits": {"phone": "+15550100"}}).encode(),
         {"api_key": SECRETS[0], "Content-Type": "application/json"})
    line = json.loads(record.read_text(encoding="utf-8"))
    assert line["headers"]["api_key"] == SECRETS[0] and line["body"]["traits"]["phone"] == "<redacted>"
