"""Header names as the client sent them, on every route: WSGI folds ``api-key`` and ``api_key``
onto one name, but 1Flow reads its keys only from ``one_flow_key`` and ``api_key``. A near miss
is refused (as the SDK API's hot path refuses it) with a journal ``warning`` naming it, and the
journal shows every name as sent."""

from __future__ import annotations

import http.client
import json

import pytest
import requests

from mock_1flow.testing import MockServer
from tests.conftest import US_KEY

# (path, the key header, its near miss, a valid body)
ROUTES = {
    "sdk": ("/us/api/2021-06-15/v3/user", "one_flow_key", "one-flow-key", {"user_id": "names"}),
    "http-api": ("/us/v1/track", "api_key", "api-key", {"user_id": "names", "event": "Named"}),
}


def send(port: int, path: str, headers: dict[str, str], body: dict, host: str | None = None) -> tuple[int, dict]:
    """http.client sends header names exactly as given."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    extra = {"Host": host} if host else {}
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **extra, **headers})
    reply = connection.getresponse()
    return reply.status, json.loads(reply.read())


@pytest.mark.parametrize("route", list(ROUTES))
def test_the_key_header_is_journaled_as_sent(plain, route):
    path, name, _, body = ROUTES[route]
    status, _ = send(plain.port, path, {name: US_KEY}, body)
    assert status == 200
    entry = plain.journal(path)
    assert entry["request_headers"][name] == US_KEY
    assert entry["project"] == US_KEY and entry["warning"] is None


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_near_miss_is_refused_with_a_warning_naming_it(plain, route):
    path, name, near_miss, body = ROUTES[route]
    status, answer = send(plain.port, path, {near_miss: US_KEY}, body)
    assert status in (401, 404) and answer["error"] == "missing_key"  # not taken for the key
    entry = plain.journal(path)
    assert entry["request_headers"][near_miss] == US_KEY and name not in entry["request_headers"]
    assert entry["project"] is None
    assert f"'{near_miss}' header but no '{name}'" in entry["warning"]


def test_a_near_miss_on_the_http_api_host_form(plain):
    status, answer = send(plain.port, "/v1/track", {"api-key": US_KEY}, {"user_id": "u", "event": "e"}, host="api.1flow.app")
    assert (status, answer["error"]) == (401, "missing_key")
    assert "'api-key' header but no 'api_key'" in plain.journal("/v1/track")["warning"]


def test_one_flow_key_on_a_flask_route_is_journaled_with_underscores(plain):
    """The Segment ingest is a Flask route: the names as sent there too."""
    send(plain.port, "/v1/batch", {"one_flow_key": US_KEY, "X_Custom_Name": "v"}, {"batch": []})
    headers = plain.journal("/v1/batch")["request_headers"]
    assert headers["one_flow_key"] == US_KEY and headers["x_custom_name"] == "v"
    assert "one-flow-key" not in headers and "x-custom-name" not in headers


def test_the_in_process_server_refuses_a_near_miss_too():
    """``MockServer`` (werkzeug, for tests) folds names as every WSGI server does; the key
    headers are still read only as spelled with underscores."""
    with MockServer() as mock:
        refused = requests.post(mock.http_api_base() + "/track", json={"user_id": "u", "event": "e"},
                                headers={"api-key": US_KEY}, timeout=10)
        accepted = requests.post(mock.http_api_base() + "/track", json={"user_id": "u", "event": "e"},
                                 headers={"api_key": US_KEY}, timeout=10)
        entries = mock.runtime.journal.query()[0]
    assert (refused.status_code, refused.json()["error"]) == (401, "missing_key")
    assert accepted.status_code == 200
    assert "'api-key' header but no 'api_key'" in entries[0]["warning"]
