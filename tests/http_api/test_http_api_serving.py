"""1Flow's HTTP API on a real socket: ``mock-1flow serve`` (granian) keeps the ``api_key``
header (an underscore, like ``one_flow_key``), serves both forms and says where; the pytest
plugin and the admin health name its bases."""

from __future__ import annotations

import requests
from click.testing import CliRunner

from mock_1flow.testing import MockServer
from tests.unit.test_serve import free_port, raw_post, start, stop, wait_ready

KEY = "oneflow_prod_acme"


def test_serve_keeps_api_key_and_serves_path_and_host_form():
    port = free_port()
    process = start("--port", str(port), "--http-api-host", "1flow.test=eu")
    try:
        wait_ready(port, process)
        status, body = raw_post(port, "/us/v1/track", {"user_id": "u", "event": "e"}, {"api_key": KEY})
        assert (status, body["result"]["stored"]) == (200, 1)
        status, body = raw_post(port, "/v1/identify", {"user_id": "u"}, {"api_key": KEY, "Host": "api.1flow.app"})
        assert status == 200 and body["result"]["user_id"] == "u"
        status, body = raw_post(port, "/v1/identify", {"user_id": "u"}, {"api_key": KEY})
        assert (status, body["code"]) == (401, "missing_write_key")  # /v1 on another host: Segment's
        status, body = raw_post(port, "/v1/track", {"user_id": "u", "event": "e"},
                                {"api_key": "oneflow_prod_globex", "Host": "1flow.test"})
        assert status == 200 and body["result"]["stored"] == 1  # a mapped host: 1Flow's, in its region
    finally:
        stop(process)
    output = process.stdout.read()
    assert f"1Flow HTTP API us: http://127.0.0.1:{port}/us/v1 (header api_key)" in output
    assert "Host api.1flow.app -> 1Flow HTTP API us" in output
    assert "Host 1flow.test -> 1Flow HTTP API eu" in output


def test_plugin_and_health_name_the_http_api_bases(one_flow_mock):
    assert one_flow_mock.http_api_base("eu") == f"{one_flow_mock.url}/eu/v1"
    reply = requests.post(one_flow_mock.http_api_base() + "/track", json={"user_id": "u", "event": "Plugin"},
                          headers={"api_key": KEY}, timeout=5)
    assert reply.status_code == 200
    assert [e["name"] for e in one_flow_mock.events(KEY)] == ["Plugin"]
    assert one_flow_mock.requests(path="/us/v1/track")[0]["project"] == KEY
    health = requests.get(one_flow_mock.url + "/__admin/health", timeout=5).json()
    assert health["http_api"] == {"us": "/us/v1", "eu": "/eu/v1"}


def test_fuzz_covers_the_http_api_with_its_key_and_its_links(tmp_path):
    """``mock-1flow fuzz`` on the http-api tag: the hook puts a valid key in ``api_key`` (so
    generated calls reach the handlers) and the stateful phase follows identify -> track."""
    from mock_1flow.cli.fuzz import fuzz

    junit = tmp_path / "junit.xml"
    args = ["--seed", "7", "--max-examples", "5", "--junit", str(junit), "--phases", "examples,coverage,fuzzing,stateful",
            "--", "--include-tag", "http-api"]
    with MockServer() as mock:
        result = CliRunner().invoke(fuzz, ["--url", mock.url, *args])
        journal = mock.runtime.journal.query()[0]
    assert result.exit_code == 0, result.output
    served = {(entry["path"].rsplit("/", 1)[-1], entry["status"]) for entry in journal}
    assert {("identify", 200), ("track", 200), ("batch", 200)} <= served
    linked = [e for e in journal if e["path"].endswith("/v1/track") and isinstance(e["body"], dict)
              and e["body"].get("event") == "linked_event"]
    assert linked and linked[0]["status"] == 200, "the stateful phase should follow the httpIdentify -> httpTrack link"
