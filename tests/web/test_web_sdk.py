"""The web SDK double over a real socket: the script at the destination's URLs, on any host
and in the host form (``1flow.app``, ``cdn-development.1flow.ai``, over ``--tls`` with the
mock's CA), and ``POST /js/1flow/calls`` recording each call with its verdict."""

from __future__ import annotations

import http.client
import ssl

import pytest
import requests

from mock_1flow.testing import ServedMock
from tests.clients.test_tls import LoopbackHTTPS
from tests.unit.test_serve import free_port, start, stop, wait_ready

ACME = "oneflow_prod_acme"  # a project homed in us
GLOBEX = "oneflow_prod_globex"  # homed in eu


@pytest.fixture(scope="module")
def mock():
    with ServedMock() as served:
        yield served


@pytest.mark.parametrize("path, host", [("/js/1flow.js", None), ("/js/1flow.js", "1flow.app"),
                                        ("/js-sdk/1flow.js", "cdn-development.1flow.ai")])
def test_the_script_is_served_on_any_host_and_in_the_host_form(mock: ServedMock, path: str, host: str | None) -> None:
    reply = requests.get(mock.url + path, headers={"Host": host} if host else {}, timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/javascript")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "window._1flow = call" in reply.text and "data-api-key" in reply.text
    assert mock.requests(path=path)[-1]["status"] == 200


def test_the_script_in_the_host_form_over_tls(tmp_path) -> None:
    port = free_port()
    process = start("--port", str(port), "--tls", "--tls-dir", str(tmp_path))
    try:
        wait_ready(port, process)
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        for host, path in (("1flow.app", "/js/1flow.js"), ("cdn-development.1flow.ai", "/js-sdk/1flow.js")):
            connection = LoopbackHTTPS(host, port, context=context, timeout=10)
            connection.request("GET", path, headers={"Host": host})
            reply: http.client.HTTPResponse = connection.getresponse()
            assert reply.status == 200, host
            assert b"window._1flow = call" in reply.read()
            connection.close()
    finally:
        stop(process)


def call(mock: ServedMock, key: str | None, method: object, *args: object) -> requests.Response:
    return requests.post(f"{mock.url}/js/1flow/calls", json={"key": key, "method": method, "args": list(args)}, timeout=10)


def test_a_good_call_is_recorded_and_pointed_at_its_projects_region(mock: ServedMock) -> None:
    reply = call(mock, GLOBEX, "track", "Order Completed", {"userId": "u1", "anonymousId": "a1", "properties": {"revenue": 42}})
    answer = reply.json()
    assert reply.status_code == 200 and "error" not in answer
    assert answer["result"] == {"web_sdk_call": {"method": "track", "args": ["Order Completed", {
        "userId": "u1", "anonymousId": "a1", "properties": {"revenue": 42}}]}, "api": "/eu/api/2021-06-15", "sent": True}
    entry = mock.requests(path="/js/1flow/calls", project=GLOBEX)[-1]
    assert (entry["region"], entry["error"], entry["body"]["method"]) == ("eu", None, "track")


@pytest.mark.parametrize("method, args, error", [
    ("trak", ["Order Completed", {}], "unknown_method"),
    (None, [], "unknown_method"),
    ("track", ["Order Completed", "not an object"], "invalid_argument"),
    ("identify", ["user-1", [1, 2]], "invalid_argument"),
    ("track", ["Order Completed", {"properties": 5}], "invalid_argument"),
    ("track", [None, {}], "invalid_event_name"),
    ("identify", [None, {}], "missing_user_id"),
])
def test_a_bad_call_is_recorded_with_its_error_and_not_sent(mock: ServedMock, method, args, error) -> None:
    answer = call(mock, ACME, method, *args).json()
    assert answer["success"] == 200 and answer["error"] == error and answer["result"]["sent"] is False
    assert "_1flow(" in answer["message"]
    assert mock.requests(path="/js/1flow/calls")[-1]["error"] == error


def test_a_missing_third_argument_is_the_stubs_empty_object(mock: ServedMock) -> None:
    assert call(mock, ACME, "identify", "user-1").json()["result"]["sent"] is True
    assert call(mock, ACME, "identify", "user-1", None).json()["result"]["sent"] is True


def test_an_unknown_key_is_recorded_and_sent_to_the_first_region(mock: ServedMock) -> None:
    answer = call(mock, "oneflow_prod_nobody", "track", "E", {}).json()
    assert answer["result"]["api"] == "/us/api/2021-06-15" and answer["result"]["sent"] is True


@pytest.mark.parametrize("body", [{"method": "track"}, {"key": 5, "method": "track", "args": []},
                                  {"key": None, "method": "track", "args": {}}, {"key": None, "method": "t", "args": [], "x": 1}])
def test_a_malformed_report_is_400_with_what_to_fix(mock: ServedMock, body: dict) -> None:
    reply = requests.post(f"{mock.url}/js/1flow/calls", json=body, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_request"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_arguments_json_could_not_hold_are_recorded_as_text_with_their_error(mock: ServedMock) -> None:
    reply = requests.post(f"{mock.url}/js/1flow/calls", timeout=10, json={
        "key": ACME, "method": "track", "args": ["Cyclic", "[object Object]"],
        "encoding_error": "Converting circular structure to JSON"})
    answer = reply.json()
    assert reply.status_code == 200 and answer["error"] == "unserializable_arguments"
    assert "circular" in answer["message"] and answer["result"]["sent"] is False
