"""``mock-1flow serve --tls`` over a real socket: an SDK-like HTTPS client that trusts only the
CA the mock wrote reaches the host form as ``https://api-sdk.1flow.app`` (A18)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from pathlib import Path

import pytest

from mock_1flow.contracts.corpus import all_corpora
from mock_1flow.tls import make_certificates
from tests.unit.test_serve import free_port, start, stop, wait_ready

BY_ID = {r.id: r for c in all_corpora() for r in c.requests}


class LoopbackHTTPS(http.client.HTTPSConnection):
    """Connects to 127.0.0.1 but verifies the certificate for ``host``, as a device whose
    hosts file points api-sdk.1flow.app at the mock would."""

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def call(port: int, ca: Path, host: str, request_id: str) -> tuple[int, dict]:
    request = BY_ID[request_id]
    connection = LoopbackHTTPS(host, port, context=ssl.create_default_context(cafile=str(ca)), timeout=10)
    target = request.path + (f"?{request.query}" if request.query else "")
    connection.request(request.method, target, body=request.data(), headers={"Host": host, **request.headers})
    reply = connection.getresponse()
    return reply.status, json.loads(reply.read())


@pytest.fixture
def served_tls(tmp_path):
    port = free_port()
    process = start("--port", str(port), "--tls", "--tls-dir", str(tmp_path))
    try:
        wait_ready(port, process)
        yield port, tmp_path / "ca.pem", process
    finally:
        stop(process)


def test_sdk_requests_over_https_with_the_mocks_ca(served_tls):
    port, ca, _ = served_tls
    status, body = call(port, ca, "api-sdk.1flow.app", "ios-add-user")
    assert (status, body["success"]) == (200, 200) and len(body["result"]["analytic_user_id"]) == 24
    status, body = call(port, ca, "beta-sdk.1flow.app", "android-add-user-beta-host")
    assert status == 200
    status, body = call(port, ca, "api-sdk.1flow.app", "android-list-surveys")
    assert status == 200 and body["throttlingMobileSDKConfig"]["isThrottlingActivated"] is False


def test_a_client_without_the_ca_refuses_the_certificate(served_tls):
    port, _, _ = served_tls
    connection = LoopbackHTTPS("api-sdk.1flow.app", port, context=ssl.create_default_context(), timeout=10)
    with pytest.raises(ssl.SSLCertVerificationError):
        connection.request("GET", "/openapi.yaml")


def test_start_up_says_which_ca_to_trust(tmp_path):
    port = free_port()
    process = start("--port", str(port), "--tls", "--tls-dir", str(tmp_path))
    try:
        wait_ready(port, process)
    finally:
        stop(process)
    output = process.stdout.read()
    assert f"https://127.0.0.1:{port}" in output
    assert f"trust this CA on the device or simulator: {tmp_path / 'ca.pem'}" in output


def test_the_ca_is_reused_and_the_certificate_covers_mapped_hosts(tmp_path):
    first = make_certificates(["api-sdk.1flow.app"], tmp_path)
    ca = first.ca.read_bytes()
    second = make_certificates(["api-sdk.1flow.app", "sdk.example.test"], tmp_path)
    assert second.ca.read_bytes() == ca  # trusted once on the device, valid for later starts
    assert "sdk.example.test" in second.names and "localhost" in second.names
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(str(second.cert), str(second.key))  # a usable pair


def test_tls_options_are_checked(tmp_path):
    from click.testing import CliRunner

    from mock_1flow.cli import main

    cert = tmp_path / "c.pem"
    cert.write_text("x")
    result = CliRunner().invoke(main, ["serve", "--tls-cert", str(cert)])
    assert result.exit_code == 2 and "--tls-cert and --tls-key go together" in result.output
