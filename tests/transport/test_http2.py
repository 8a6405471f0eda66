"""``mock-1flow serve --tls`` as an unmodified SDK meets it: ALPN picks HTTP/2, where the host
travels in ``:authority`` instead of ``Host`` (RFC 9113 §8.3.1); the host form of the SDK
API and 1Flow's HTTP API host (``api.1flow.app``) must route by it, and the certificate
must cover every mapped host."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
from typing import Any

import httpx
import pytest

from tests.conftest import EU_KEY, US_KEY
from tests.transport.conftest import EU_HTTP_API_HOST, EU_SDK_HOST, Served

USER = "/api/2021-06-15/v3/user"


def h2_post(tls: Served, host: str, path: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    """POST over HTTP/2 to 127.0.0.1 as if ``host`` resolved there: SNI and certificate check
    for ``host``, ``:authority`` = ``host:port``."""
    with httpx.Client(http1=False, http2=True, verify=tls.verify(), timeout=20) as client:
        return client.post(f"{tls.url}{path}", headers={"Host": f"{host}:{tls.port}", **headers},
                           extensions={"sni_hostname": host}, **body)


def handshake(tls: Served, host: str, alpn: list[str], maximum: ssl.TLSVersion | None = None) -> tuple[str | None, str | None]:
    """(ALPN protocol chosen, TLS version) of a handshake that verifies the certificate for ``host``."""
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.set_alpn_protocols(alpn)
    if maximum is not None:
        context.maximum_version = maximum
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as wrapped:
            return wrapped.selected_alpn_protocol(), wrapped.version()


def test_alpn_offers_h2_and_http11(tls):
    assert handshake(tls, "api-sdk.1flow.app", ["h2", "http/1.1"])[0] == "h2"
    assert handshake(tls, "api-sdk.1flow.app", ["http/1.1"])[0] == "http/1.1"


def test_tls_12_clients_are_served(tls):
    """OkHttp on Android 9 and older has no TLS 1.3."""
    assert handshake(tls, "api-sdk.1flow.app", ["h2", "http/1.1"], ssl.TLSVersion.TLSv1_2) == ("h2", "TLSv1.2")


@pytest.mark.parametrize("host", ["api-sdk.1flow.app", "beta-sdk.1flow.app", "dev-sdk.1flow.app", EU_SDK_HOST,
                                  "api.1flow.app", EU_HTTP_API_HOST, "localhost"])
def test_the_certificate_covers_every_mapped_host(tls, host):
    assert handshake(tls, host, ["h2"])[0] == "h2"  # verified for ``host``, or ssl raises


@pytest.mark.parametrize(("host", "key", "region"), [("api-sdk.1flow.app", US_KEY, "us"), (EU_SDK_HOST, EU_KEY, "eu")])
def test_host_form_sdk_calls_route_by_authority_over_h2(tls, host, key, region):
    reply = h2_post(tls, host, USER, {"one_flow_key": key}, json={"user_id": f"h2-{region}"})
    assert reply.http_version == "HTTP/2"
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["result"]["analytic_user_id"]) == 24
    entry = tls.journal(USER)
    assert (entry["region"], entry["project"], entry["status"]) == (region, key, 200)
    assert entry["request_headers"][":authority"] == f"{host}:{tls.port}"
    assert "host" not in entry["request_headers"]  # as sent: HTTP/2 has no Host header here


@pytest.mark.parametrize(("host", "region"), [("api.1flow.app", "us"), (EU_HTTP_API_HOST, "eu")])
def test_the_http_api_host_is_1flows_api_over_h2(tls, host, region):
    key = US_KEY if region == "us" else EU_KEY
    reply = h2_post(tls, host, "/v1/track", {"api_key": key}, json={"user_id": "h2", "event": "Signed Up"})
    assert reply.http_version == "HTTP/2"
    assert (reply.status_code, reply.json()["success"]) == (200, 200), reply.text
    entry = tls.journal("/v1/track")
    assert (entry["region"], entry["project"], entry["request_headers"][":authority"]) == (region, key, f"{host}:{tls.port}")


def test_v1_on_another_host_stays_segments_api_over_h2(tls):
    reply = h2_post(tls, "localhost", "/v1/track", {"api_key": US_KEY}, json={"userId": "h2", "event": "E"})
    assert (reply.status_code, reply.json()["code"]) == (401, "missing_write_key")


def test_a_streamed_body_without_content_length_over_h2(tls):
    """An HTTP/2 body may come with no Content-Length: read it all the same."""
    def body():
        yield b'{"user_id": "h2-stream", '
        yield b'"event": "Streamed"}'

    reply = h2_post(tls, "api.1flow.app", "/v1/track", {"api_key": US_KEY, "Content-Type": "application/json"}, content=body())
    assert (reply.status_code, reply.json()["success"]) == (200, 200), reply.text
    entry = tls.journal("/v1/track")
    assert "content-length" not in entry["request_headers"]
    assert entry["body"] == {"user_id": "h2-stream", "event": "Streamed"}


def test_curl_http2_reproduction_from_the_issue(tls):
    """The issue's command, verbatim but for the port: curl negotiates h2 and the host form answers."""
    curl = shutil.which("curl")
    assert curl, "curl is needed for this test"
    out = subprocess.run(
        [curl, "-sS", "--http2", "--cacert", str(tls.ca), "--resolve", f"api-sdk.1flow.app:{tls.port}:127.0.0.1",
         "-H", f"one_flow_key: {US_KEY}", "-H", "Content-Type: application/json", "-d", '{"user_id":"d"}',
         "-w", "\n%{http_version} %{http_code}", f"https://api-sdk.1flow.app:{tls.port}{USER}"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    body, _, status = out.rpartition("\n")
    assert status == "2 200", out
    assert json.loads(body)["success"] == 200
