"""CORS over a real socket (``mock-1flow serve``): a page on another origin can call the SDK
API (path and host forms), 1Flow's HTTP API and the web SDK double, as it can call 1Flow's
services (``server/cors.py``); the admin API refuses it."""

from __future__ import annotations

import pytest
import requests

from mock_1flow.testing import ServedMock

ORIGIN = "https://shop.example"
ACME = "oneflow_prod_acme"


@pytest.fixture(scope="module")
def mock():
    with ServedMock() as served:
        yield served


def preflight(url: str, method: str = "POST", headers: str = "content-type,one_flow_key", **extra: str) -> requests.Response:
    return requests.options(url, timeout=10, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method,
                                                      "Access-Control-Request-Headers": headers, **extra})


def assert_preflight_granted(reply: requests.Response, methods: set[str]) -> None:
    assert reply.status_code == 204 and reply.content == b""
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert set(reply.headers["Access-Control-Allow-Methods"].split(", ")) == methods
    allowed = {name.strip() for name in reply.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"one_flow_key", "api_key", "content-type"} <= allowed


@pytest.mark.parametrize("path, methods", [
    ("/us/api/2021-06-15/v3/track", {"POST", "OPTIONS"}),
    ("/eu/api/2021-06-15/v3/survey", {"GET", "HEAD", "OPTIONS"}),
    ("/us/api/2021-06-15/v3/user/device/0123456789abcdef01234567", {"POST", "OPTIONS"}),
])
def test_the_sdk_api_grants_preflights_with_each_paths_methods(mock: ServedMock, path: str, methods: set[str]) -> None:
    assert_preflight_granted(preflight(mock.url + path), methods)


def test_the_host_form_grants_preflights_too(mock: ServedMock) -> None:
    reply = preflight(mock.url + "/api/2021-06-15/v3/user", Host="api-sdk.1flow.app")
    assert_preflight_granted(reply, {"POST", "OPTIONS"})


def test_sdk_answers_carry_allow_origin_errors_included(mock: ServedMock) -> None:
    base = mock.base("us")
    ok = requests.post(f"{base}/v3/user", json={"user_id": "browser-1"}, headers={"one_flow_key": ACME, "Origin": ORIGIN},
                       timeout=10)
    unknown_key = requests.post(f"{base}/v3/user", json={"user_id": "browser-1"},
                                headers={"one_flow_key": "oneflow_prod_nobody", "Origin": ORIGIN}, timeout=10)
    invalid = requests.post(f"{base}/v3/track", json={"events": "no"}, headers={"one_flow_key": ACME}, timeout=10)
    host_form = requests.post(f"{mock.url}/api/2021-06-15/v3/user", json={"user_id": "browser-2"}, timeout=10,
                              headers={"one_flow_key": ACME, "Host": "api-sdk.1flow.app"})
    assert [r.status_code for r in (ok, unknown_key, invalid, host_form)] == [200, 404, 400, 200]
    assert all(r.headers["Access-Control-Allow-Origin"] == "*" for r in (ok, unknown_key, invalid, host_form))
    entry = mock.requests(path="/us/api/2021-06-15/v3/user", status=200)[-1]
    assert entry["response_headers"]["access-control-allow-origin"] == "*"  # the journal shows what was sent


@pytest.mark.parametrize("path", ["/us/api/2021-06-15/v3/track", "/us/v1/track", "/js/1flow/calls"])
def test_a_preflight_leaves_faults_and_stubs_to_the_call_it_precedes(mock: ServedMock, path: str) -> None:
    """A fault for "the next track call" is not used up by the browser's preflight for it
    (``@fastify/cors`` answers preflights before any route); its answer carries Allow-Origin."""
    fault = mock.add_fault(path=path.replace("/us/api/2021-06-15", ""), status=503, times=1)
    stub = mock.add_stub({"status": 418, "body": "teapot"}, {"method": "OPTIONS", "path": "*"})
    try:
        assert preflight(mock.url + path).status_code == 204
        reply = requests.post(mock.url + path, json={}, headers={"one_flow_key": ACME, "api_key": ACME}, timeout=10)
        assert reply.status_code == 503 and reply.headers["Access-Control-Allow-Origin"] == "*"
        assert requests.options(mock.url + path, timeout=10).status_code == 418  # a plain OPTIONS is the stub's
    finally:
        mock.admin(f"faults/{fault['id']}", "DELETE")
        mock.admin(f"stubs/{stub['id']}", "DELETE")


def test_a_plain_options_keeps_its_allow_answer(mock: ServedMock) -> None:
    reply = requests.options(f"{mock.base('us')}/v3/track", timeout=10)
    assert reply.status_code == 200 and reply.headers["Allow"] == "POST, OPTIONS"


def test_a_preflight_for_a_path_that_does_not_exist_is_404(mock: ServedMock) -> None:
    for url in (f"{mock.base('us')}/v3/nothing", f"{mock.url}/us/v1/nothing", f"{mock.url}/js/nothing.js"):
        reply = preflight(url)
        assert reply.status_code == 404, url
        assert reply.json()["error"] == "unknown_endpoint"


@pytest.mark.parametrize("path, host", [("/us/v1/track", None), ("/v1/identify", "api.1flow.app")])
def test_the_http_api_grants_preflights_and_allows_any_origin(mock: ServedMock, path: str, host: str | None) -> None:
    extra = {"Host": host} if host else {}
    assert_preflight_granted(preflight(mock.url + path, headers="content-type,api_key", **extra), {"POST", "OPTIONS"})
    unauthorized = requests.post(mock.url + path, json={"user_id": "u", "event": "e"}, headers={"Origin": ORIGIN, **extra},
                                 timeout=10)
    assert unauthorized.status_code == 401 and unauthorized.headers["Access-Control-Allow-Origin"] == "*"
    ok = requests.post(mock.url + path, json={"user_id": "u", "event": "e"}, headers={"api_key": ACME, **extra}, timeout=10)
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == "*"


def test_segments_api_is_not_1flows_and_gets_no_cors(mock: ServedMock) -> None:
    reply = requests.post(f"{mock.url}/v1/track", json={"writeKey": "segment_wk_acme", "userId": "u", "event": "e"},
                          timeout=10)
    assert reply.status_code == 200 and "Access-Control-Allow-Origin" not in reply.headers


@pytest.mark.parametrize("path, methods", [("/js/1flow.js", {"GET", "HEAD", "OPTIONS"}),
                                           ("/js/1flow/calls", {"POST", "OPTIONS"})])
def test_the_web_sdk_double_grants_preflights(mock: ServedMock, path: str, methods: set[str]) -> None:
    assert_preflight_granted(preflight(mock.url + path, method="GET" if path.endswith(".js") else "POST"), methods)


def test_a_private_network_preflight_is_granted(mock: ServedMock) -> None:
    reply = preflight(f"{mock.base('us')}/v3/track", **{"Access-Control-Request-Private-Network": "true"})
    assert reply.status_code == 204 and reply.headers["Access-Control-Allow-Private-Network"] == "true"


def test_the_admin_api_refuses_foreign_origins_and_grants_no_preflight(mock: ServedMock) -> None:
    reply = preflight(f"{mock.url}/__admin/requests", method="GET")
    assert reply.status_code == 403 and reply.json()["error"] == "admin_foreign_origin"
    assert "Access-Control-Allow-Origin" not in reply.headers
    read = requests.get(f"{mock.url}/__admin/requests", headers={"Origin": ORIGIN}, timeout=10)
    assert read.status_code == 403 and "Access-Control-Allow-Origin" not in read.headers
    own = requests.get(f"{mock.url}/__admin/health", timeout=10)
    assert own.status_code == 200 and "Access-Control-Allow-Origin" not in own.headers
