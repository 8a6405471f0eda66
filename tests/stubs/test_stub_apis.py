"""A stub answers instead of the mock on every API, over a real socket to ``mock-1flow serve``:
the SDK API (path and host form), 1Flow's HTTP API and the Segment ingest; its journal entry
names it, and flags an answer that breaks the spec."""

from __future__ import annotations

import pytest
import requests

from .conftest import EU_KEY, TRACK, US_KEY, WRITE_KEY, post

SERVER_ERROR = {"success": 503, "message": "down for maintenance", "error": "injected_fault", "result": None}


def last_entry(mock):
    return mock.requests()[-1]


def test_a_stub_answers_the_sdk_api_in_path_and_host_form(mock):
    stub = mock.add_stub({"status": 503, "json": SERVER_ERROR, "headers": {"Retry-After": "7"}}, {"path": "/v3/track"})
    path_form = post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY)
    host_form = requests.post(mock.url + "/api/2021-06-15/v3/track", json=TRACK, timeout=10,
                              headers={"one_flow_key": US_KEY, "Host": "api-sdk.1flow.app"})
    for response in (path_form, host_form):
        assert (response.status_code, response.json(), response.headers["Retry-After"]) == (503, SERVER_ERROR, "7")
    entries = mock.requests(path="*/v3/track")
    assert [(e["stub"], e["off_spec"], e["region"], e["project"]) for e in entries] == [(stub["id"], None, "us", US_KEY)] * 2
    assert mock.events(US_KEY) == []  # the mock did not handle them
    assert mock.stubs()[0]["hits"] == 2


def test_a_spec_breaking_answer_is_flagged_off_spec(mock):
    stub = mock.add_stub({"status": 200, "json": {"ok": True}}, {"path": "/v3/track"})
    response = post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY)
    assert (response.status_code, response.json()) == (200, {"ok": True})
    entry = last_entry(mock)
    assert entry["stub"] == stub["id"]
    pointer, reason = entry["off_spec"]
    assert pointer == "/success" and "required" in reason


def test_a_text_body_where_the_spec_has_json_is_off_spec(mock):
    mock.add_stub({"status": 200, "body": "<html>bad gateway</html>", "headers": {"Content-Type": "text/html"}},
                  {"path": "/v3/survey"})
    response = requests.get(mock.base("us") + "/v3/survey", params={"platform": "ios"}, headers={"one_flow_key": US_KEY},
                            timeout=10)
    assert (response.status_code, response.text, response.headers["Content-Type"]) == (200, "<html>bad gateway</html>", "text/html")
    entry = last_entry(mock)
    assert entry["response"] == "<html>bad gateway</html>"
    assert entry["off_spec"][0] == "" and "not" in entry["off_spec"][1]


def test_a_status_the_operation_does_not_declare_is_off_spec(mock):
    mock.add_stub({"status": 418, "json": SERVER_ERROR}, {"path": "/v3/track"})
    assert post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY).status_code == 418
    assert "does not declare status 418" in last_entry(mock)["off_spec"][1]


def test_a_stub_answers_1flows_http_api_in_both_forms(mock):
    body = {"success": 401, "message": "revoked", "error": "invalid_key", "result": None}
    stub = mock.stub(path="/v1/track", project=US_KEY).respond_with_json(body, status=401)
    track = {"user_id": "u1", "event": "Order Completed"}
    path_form = requests.post(mock.http_api_base("us") + "/track", json=track, headers={"api_key": US_KEY}, timeout=10)
    host_form = requests.post(mock.url + "/v1/track", json=track, headers={"api_key": US_KEY, "Host": "api.1flow.app"}, timeout=10)
    other_project = requests.post(mock.http_api_base("eu") + "/track", json=track, headers={"api_key": EU_KEY}, timeout=10)
    assert [path_form.status_code, host_form.status_code, other_project.status_code] == [401, 401, 200]
    assert path_form.json() == host_form.json() == body
    entries = mock.requests(path="*/v1/track")
    assert [(e["stub"], e["off_spec"], e["error"]) for e in entries] == [(stub["id"], None, "invalid_key")] * 2 + [(None, None, None)]


def test_a_stub_answers_the_segment_ingest(mock):
    stub = mock.stub(path="/v1/batch", project=US_KEY).respond_with_json({"code": "slow_down", "message": "later"}, status=429)
    batch = {"writeKey": WRITE_KEY, "batch": [{"type": "track", "event": "Order Completed", "userId": "u1"}]}
    response = post(mock.url + "/v1/batch", batch)
    assert (response.status_code, response.json()) == (429, {"code": "slow_down", "message": "later"})
    entry = last_entry(mock)
    assert (entry["stub"], entry["project"], entry["region"], entry["off_spec"]) == (stub["id"], US_KEY, "us", None)
    assert mock.events(US_KEY) == []  # nothing was delivered
    other = post(mock.url + "/v1/batch", {**batch, "writeKey": "segment_wk_globex"})
    assert (other.status_code, other.json()) == (200, {"success": True})


def test_priority_then_newest_first_then_times(mock):
    base = mock.base("us") + "/v3/track"
    low = mock.add_stub({"status": 500, "json": SERVER_ERROR}, {"path": "/v3/*"}, priority=9)
    first = mock.add_stub({"status": 502, "json": SERVER_ERROR}, {"path": "/v3/track"}, times=1)
    newer = mock.add_stub({"status": 503, "json": SERVER_ERROR}, {"path": "/v3/track"}, times=1)
    top = mock.add_stub({"status": 504, "json": SERVER_ERROR}, {"path": "/v3/track", "json": {"events": [{"name": "Refund"}]}},
                        priority=1)
    assert [s["id"] for s in mock.stubs()] == [top["id"], newer["id"], first["id"], low["id"]]
    statuses = [post(base, TRACK, one_flow_key=US_KEY).status_code for _ in range(4)]
    assert statuses == [503, 502, 500, 500]  # newest at equal priority, each once, then the low-priority one
    refund = {**TRACK, "events": [{**TRACK["events"][0], "name": "Refund"}]}
    assert post(base, refund, one_flow_key=US_KEY).status_code == 504
    assert {s["id"]: s["hits"] for s in mock.stubs()} == {top["id"]: 1, newer["id"]: 1, first["id"]: 1, low["id"]: 2}
    mock.remove_stub(low["id"])
    assert post(base, TRACK, one_flow_key=US_KEY).status_code == 200  # exhausted stubs step aside: the mock answers


def test_matchers_on_method_region_headers_query_and_body(mock):
    mock.add_stub({"status": 200, "json": {"matched": True}},
                  {"method": "get", "path": "/v3/survey", "region": "eu", "headers": {"User-Agent": "OneFlow-iOS*"},
                   "query": {"platform": "i*"}})
    url = mock.base("eu") + "/v3/survey"
    ios = {"one_flow_key": EU_KEY, "User-Agent": "OneFlow-iOS/2.1"}

    def status(url: str = url, params: dict | None = None, headers: dict | None = None) -> dict:
        return requests.get(url, params=params or {"platform": "ios"}, headers=headers or ios, timeout=10).json()

    assert status() == {"matched": True}
    assert "matched" not in status(headers={**ios, "User-Agent": "okhttp/4"})
    assert "matched" not in status(params={"platform": "android"})
    assert "matched" not in status(url=mock.base("us") + "/v3/survey", headers={**ios, "one_flow_key": US_KEY})


def test_after_gate_lets_the_gate_answer_first(mock):
    mock.add_stub({"status": 200, "json": {"stubbed": True}}, {"path": "/v3/track"}, after_gate=True)
    mock.add_stub({"status": 200, "json": {"stubbed": True}}, {"path": "/v1/track"}, after_gate=True)
    unknown = post(mock.base("us") + "/v3/track", TRACK, one_flow_key="no_such_key")
    wrong_region = post(mock.base("eu") + "/v3/track", TRACK, one_flow_key=US_KEY)
    passed = post(mock.base("us") + "/v3/track", {"not": "a track body"}, one_flow_key=US_KEY)
    assert [unknown.status_code, unknown.json()["error"]] == [404, "unknown_key"]
    assert wrong_region.json()["error"] in ("region_not_in_plan", "key_region_mismatch")
    assert passed.json() == {"stubbed": True}  # past the gate, before the body's validation
    track = {"user_id": "u1", "event": "Order Completed"}
    no_key = requests.post(mock.http_api_base("us") + "/track", json=track, timeout=10)
    keyed = requests.post(mock.http_api_base("us") + "/track", json=track, headers={"api_key": US_KEY}, timeout=10)
    assert (no_key.status_code, keyed.json()) == (401, {"stubbed": True})
    mock.add_stub({"status": 200, "json": {"stubbed": True}}, {"path": "/v1/batch"}, after_gate=True)
    batch = {"batch": [{"type": "track", "event": "Opened", "userId": "u1"}]}
    unknown_write_key = post(mock.url + "/v1/batch", {**batch, "writeKey": "nobody"})
    known_write_key = post(mock.url + "/v1/batch", {**batch, "writeKey": WRITE_KEY})
    assert (unknown_write_key.status_code, known_write_key.json()) == (401, {"stubbed": True})
    before_gate = mock.add_stub({"status": 200, "json": {"before": True}}, {"path": "/v3/track"})
    assert post(mock.base("us") + "/v3/track", TRACK, one_flow_key="no_such_key").json() == {"before": True}
    assert mock.stubs()[0]["id"] == before_gate["id"]


@pytest.mark.parametrize("url_of, headers", [
    (lambda mock: mock.base("us") + "/v3/track", {"one_flow_key": US_KEY}),
    (lambda mock: mock.http_api_base("us") + "/track", {"api_key": US_KEY}),
])
def test_drop_connection(mock, url_of, headers):
    stub = mock.stub(path="/v[13]/track").drop_connection()
    with pytest.raises(requests.exceptions.RequestException):
        requests.post(url_of(mock), json=TRACK, headers=headers, timeout=10)
    entry = last_entry(mock)
    assert (entry["stub"], entry["status"], entry["error"], entry["off_spec"]) == (stub["id"], 0, "connection_dropped", None)


def test_find_and_count_by_stub(mock):
    stub = mock.add_stub({"status": 202}, {"path": "/v3/identify"})
    post(mock.base("us") + "/v3/identify", {"user_id": "a"}, one_flow_key=US_KEY)
    post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY)
    assert mock.admin("requests/count", params={"stub": stub["id"]}) == {"count": 1}
    found = mock.admin("requests/find", "POST", json={"stub": stub["id"]})["requests"]
    assert [(e["path"], e["status"], e["response"]) for e in found] == [("/us/api/2021-06-15/v3/identify", 202, None)]
