"""The admin API refuses cross-site use, over a real socket: another site's page (Origin), a
DNS-rebinding name (Host) and a CORS-simple POST (a plain form) get 403 with a machine code;
the mock's own clients (CLI, MockClient, the page) send what is needed and are served."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from mock_1flow.testing import ServedMock

from tests.conftest import US_KEY


@pytest.fixture(scope="module")
def served():
    with ServedMock() as mock:
        yield mock


def call(served: ServedMock, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, dict]:
    """http.client sends the Host and Origin given, as a browser would."""
    netloc = urlsplit(served.url).netloc
    host, port = netloc.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest(method, path, skip_host="Host" in headers, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body or b"")))
    connection.endheaders(body)
    response = connection.getresponse()
    status, payload = response.status, response.read()
    connection.close()
    return status, json.loads(payload)


def own_origin(served: ServedMock) -> str:
    return served.url  # http://127.0.0.1:PORT, what the mock's own page sends


@pytest.mark.parametrize("method, path", [("GET", "/__admin/requests"), ("GET", "/__admin/"),
                                          ("POST", "/__admin/reset"), ("DELETE", "/__admin/faults")])
def test_a_foreign_origin_is_refused_on_reads_and_writes(served, method, path):
    status, body = call(served, method, path, {"Origin": "https://evil.example", "X-Mock-1flow-Admin": "1"})
    assert (status, body["error"]) == (403, "admin_foreign_origin")
    assert "evil.example" in body["message"]


def test_a_null_origin_is_refused(served):
    status, body = call(served, "GET", "/__admin/requests", {"Origin": "null"})
    assert (status, body["error"]) == (403, "admin_foreign_origin")


def test_a_dns_rebinding_host_is_refused(served):
    port = urlsplit(served.url).port
    status, body = call(served, "GET", "/__admin/requests", {"Host": f"attacker.example:{port}"})
    assert (status, body["error"]) == (403, "admin_foreign_host")
    assert "attacker.example" in body["message"] and "--admin-allow" in body["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None])
def test_a_cors_simple_post_cannot_reset_the_mock(served, content_type):
    served.admin("projects", "POST", json={"key": "oneflow_prod_kept", "name": "Kept", "region": "us", "plan": "free"})
    headers = {"Content-Type": content_type} if content_type else {}
    status, body = call(served, "POST", "/__admin/reset", headers, b"x=1" if content_type else None)
    assert (status, body["error"]) == (403, "admin_header_required")
    assert "X-Mock-1flow-Admin: 1" in body["message"]
    assert "oneflow_prod_kept" in {p["key"] for p in served.admin("projects")["projects"]}, "the reset did not happen"


def test_the_allowed_forms_are_served(served):
    port = urlsplit(served.url).port
    # the custom header, from the mock's own page (same origin) or a script
    assert call(served, "POST", "/__admin/reset", {"X-Mock-1flow-Admin": "1", "Origin": own_origin(served)})[0] == 200
    # a JSON body needs no header
    project = json.dumps({"key": "oneflow_prod_json", "name": "J", "region": "us", "plan": "free"}).encode()
    assert call(served, "POST", "/__admin/projects", {"Content-Type": "application/json"}, project)[0] == 201
    # DELETE is never CORS-simple: accepted as is
    assert call(served, "DELETE", "/__admin/projects/oneflow_prod_json", {})[0] == 200
    # reads without an Origin, by loopback names and by a host mapped to a region
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", f"api-sdk.1flow.app:{port}", "api.1flow.app"):
        assert call(served, "GET", "/__admin/health", {"Host": host})[0] == 200, host
    # the helpers (MockClient, CLI) send what a write needs
    served.reset()
    served.add_fault(path="/v3/user", status=503, times=1)
    served.clear_faults()
    assert served.admin("faults")["faults"] == []
    assert US_KEY in {p["key"] for p in served.admin("projects")["projects"]}


def test_the_cli_resets_through_the_guard(served):
    from click.testing import CliRunner

    from mock_1flow.cli import main

    result = CliRunner().invoke(main, ["reset", "--url", served.url])
    assert result.exit_code == 0, result.output
