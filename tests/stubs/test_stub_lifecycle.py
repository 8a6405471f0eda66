"""Stubs' life: reset, the state document, ``serve --stub FILE``, what bad input gets, and
faults with any 4xx/5xx status; over real sockets."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from mock_1flow.cli.serve import serve
from mock_1flow.testing import MockError, MockServer, ServedMock

from .conftest import TRACK, US_KEY, post

OK_STUB = {"request": {"path": "/v3/track"}, "response": {"status": 200, "json": {"stubbed": True}}}


def test_reset_clears_runtime_stubs(mock):
    mock.add_stub(OK_STUB["response"], OK_STUB["request"])
    mock.reset()
    assert mock.stubs() == []
    assert "stubbed" not in post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY).json()


def test_the_state_document_carries_the_stubs(mock):
    first = mock.add_stub(OK_STUB["response"], OK_STUB["request"], times=3)
    second = mock.add_stub({"status": 500, "body": "boom"}, {"path": "/v3/identify"}, priority=2)
    post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY)
    state = mock.admin("state")
    assert [(s["id"], s["hits"]) for s in state["parts"]["stubs"]] == [(second["id"], 0), (first["id"], 1)]
    mock.reset()
    mock.admin("state", "PUT", json=state)
    assert mock.stubs() == state["parts"]["stubs"]
    assert post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY).json() == {"stubbed": True}
    assert mock.add_stub({"status": 204})["id"] not in (first["id"], second["id"])
    without = {**state, "parts": {}}
    mock.admin("state", "PUT", json=without)
    assert mock.stubs() == []  # a document without stubs puts back the start-up ones (none), as a reset does


def test_a_state_document_with_a_bad_stub_changes_nothing(mock):
    mock.add_project("kept_project")
    state = mock.admin("state")
    bad = {**state, "projects": [], "state": {},
           "parts": {"stubs": [{"id": "stub-9", "hits": 0, "priority": 5, "after_gate": False, "request": {},
                      "response": {"json": {}, "body": "both"}}]}}
    with pytest.raises(MockError) as refused:
        mock.admin("state", "PUT", json=bad)
    assert refused.value.status == 400 and "/parts/stubs/0/response/body" in refused.value.message
    assert any(p["key"] == "kept_project" for p in mock.admin("projects")["projects"])
    assert mock.stubs() == []


def test_stub_files_load_at_start_and_come_back_after_reset(tmp_path):
    path = tmp_path / "stubs.json"
    path.write_text(json.dumps([OK_STUB, {"request": {"path": "/v1/batch"}, "response": {"status": 503, "body": "later"}}]))
    with ServedMock("--stub", str(path)) as served:
        assert "stubs: 2 from" in served.output
        assert post(served.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY).json() == {"stubbed": True}
        served.clear_stubs()
        served.reset()
        assert [s["request"]["path"] for s in served.stubs()] == ["/v1/batch", "/v3/track"]
        assert [s["hits"] for s in served.stubs()] == [0, 0]


@pytest.mark.parametrize("content, said", [
    ('[{"request": {"pathh": "/v3/track"}, "response": {}}]', "did you mean 'path'"),
    ('{"response": {"status": "500"}}', "/0/response/status"),
    ('[{"request": {}}]', "/0/response"),
    ("[{", "not valid JSON"),
])
def test_a_bad_stub_file_stops_the_start(tmp_path, content, said):
    path = tmp_path / "stubs.json"
    path.write_text(content)
    result = CliRunner().invoke(serve, ["--port", "0", "--stub", str(path)])
    assert result.exit_code == 2 and "serving on" not in result.output
    assert said in result.output


@pytest.mark.parametrize("spec, pointer, hint", [
    ({"request": {"pathh": "/v3/track"}, "response": {}}, "/request/pathh", "did you mean 'path'"),
    ({"respons": {"status": 200}}, "/respons", "did you mean 'response'"),
    ({"request": {}}, "/response", "a stub needs at least"),
    ({"response": {"status": "500"}}, "/response/status", "integer"),
    ({"response": {"status": 99}}, "/response/status", "minimum"),
    ({"response": {"status": 600}}, "/response/status", "maximum"),
    ({"response": {"json": {}, "body": "x"}}, "/response/body", "not both"),
    ({"response": {"status": 204, "json": {}}}, "/response/status", "no body"),
    ({"response": {"drop_connection": True, "status": 500}}, "/response/status", "remove status"),
    ({"response": {"headers": {"Content-Length": "3"}}}, "/response/headers/Content-Length", "sets Content-Length itself"),
    ({"response": {"headers": {"X-A": "1\r\nX-B: 2"}}}, "/response/headers/X-A", "one line"),
    ({"request": {"headers": {"x": 1}}, "response": {}}, "/request/headers/x", "string"),
    ({"response": {}, "times": 0}, "/times", "minimum"),
])
def test_bad_stubs_get_400_with_a_pointer_and_nothing_is_added(mock, spec, pointer, hint):
    response = requests.post(mock.url + "/__admin/stubs", json=spec, timeout=10)
    body = response.json()
    assert (response.status_code, body["error"], body["pointer"]) == (400, "invalid_request", pointer)
    assert hint in body["message"]
    assert mock.stubs() == []


def test_matchers_and_bodies_over_the_journal_body_limit_are_refused():
    with ServedMock("--journal-body-max", "100") as served:
        big = "x" * 101
        for spec, pointer in [({"request": {"json": {"k": big}}, "response": {}}, "/request/json"),
                              ({"response": {"body": big}}, "/response/body"),
                              ({"response": {"json": [big]}}, "/response/json")]:
            response = requests.post(served.url + "/__admin/stubs", json=spec, timeout=10)
            assert (response.status_code, response.json()["pointer"]) == (400, pointer)
            assert "journal's body limit of 100 bytes" in response.json()["message"]
        assert served.stubs() == []


def test_malformed_json_and_unknown_ids(mock):
    response = requests.post(mock.url + "/__admin/stubs", data="{", headers={"Content-Type": "application/json"}, timeout=10)
    assert (response.status_code, response.json()["error"]) == (400, "malformed_json")
    missing = requests.delete(mock.url + "/__admin/stubs/stub-404", timeout=10)
    assert (missing.status_code, missing.json()["error"]) == (404, "unknown_stub")


@pytest.mark.parametrize("status, code", [(400, "injected_fault"), (401, "injected_fault"), (418, "injected_fault"),
                                          (429, "rate_limited")])
def test_faults_answer_any_4xx_or_5xx(mock, status, code):
    fault = mock.add_fault(path="/v3/track", status=status, times=1)
    response = post(mock.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert mock.requests()[-1]["fault"] == fault["id"]


def test_a_fault_outside_4xx_5xx_is_refused(mock):
    with pytest.raises(MockError) as refused:
        mock.add_fault(path="/v3/track", status=302)
    assert refused.value.status == 400 and "/status: 302 is less than the minimum of 400" in refused.value.message


def test_in_process_mock_server_serves_stubs_too():
    with MockServer() as server:
        stub = server.stub(path="/v3/identify", json={"user_id": "vip"}).respond_with_json(
            {"success": 200, "message": "ok", "result": {"vip": True}})
        vip = post(server.base("us") + "/v3/identify", {"user_id": "vip"}, one_flow_key=US_KEY)
        other = post(server.base("us") + "/v3/identify", {"user_id": "someone"}, one_flow_key=US_KEY)
        assert vip.json()["result"] == {"vip": True}
        assert other.json()["error"] == "invalid_request"  # the mock's own answer: no anonymous_user_id
        assert server.runtime.journal.count() == 2 and server.stubs()[0]["hits"] == 1
        server.clear_stubs()
        assert server.stubs() == [] and stub["id"] == "stub-1"


def test_a_projects_stubs_can_be_cleared_alone():
    """What a per-project reset uses: the project's stubs go, the others stay and answer."""
    with MockServer() as server:
        server.stub(path="/v3/track", project=US_KEY).respond_with_status(500)
        kept = server.stub(path="/v3/track", project="oneflow_prod_globex").respond_with_status(503)
        unscoped = server.stub(path="/v3/identify").respond_with_status(502)
        server.runtime.stubs.clear(project=US_KEY)
        assert [s["id"] for s in server.stubs()] == [unscoped["id"], kept["id"]]
        assert post(server.base("us") + "/v3/track", TRACK, one_flow_key=US_KEY).status_code == 200
        assert post(server.base("eu") + "/v3/track", TRACK, one_flow_key="oneflow_prod_globex").status_code == 503
