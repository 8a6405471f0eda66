"""``GET``/``PUT /__admin/state``: the state survives a trip through one JSON document, and
``serve --state-file`` keeps it across a restart (every change logged, replayed at start)."""

from __future__ import annotations

import json

import pytest

from mock_1flow.app import create_app

from ..conftest import US_KEY, api
from ..unit.test_serve import free_port, raw_post, start, stop, wait_ready
from .test_state_file_crash import get_json, served_state

HEADERS = {"one_flow_key": US_KEY, "Content-Type": "application/json"}


def fill(client) -> str:
    analytic = client.post(api("us", "/v3/user"), json={"user_id": "dev-1"}, headers=HEADERS).json["result"]["analytic_user_id"]
    client.post(api("us", "/v3/identify"), headers=HEADERS,
                json={"anonymous_user_id": analytic, "user_id": "u-1", "log_user": True, "parameters": {"plan": "pro"}})
    identified = client.get(f"/__admin/projects/{US_KEY}/users").json["users"][0]["analytic_user_id"]
    client.post(api("us", "/v3/track"), headers=HEADERS, json={"user_id": identified, "events": [
        {"name": "Opened", "time": 1764000000, "parameters": {"big": 2**63}, "plt": "i", "_id": "0123456789abcdef01234567"}]})
    client.post(api("us", f"/v3/user/device/{identified}"), headers=HEADERS, json={"token": "push-1"})
    client.post("/__admin/projects", json={"key": "oneflow_prod_new", "name": "New", "region": "eu", "plan": "enterprise"})
    return identified


def test_a_snapshot_loaded_into_a_fresh_mock_gives_the_same_state(client):
    identified = fill(client)
    snapshot = client.get("/__admin/state").json
    assert snapshot["state"][US_KEY]["users"][0]["push_tokens"] == ["push-1"]
    fresh = create_app().test_client()
    assert fresh.put("/__admin/state", json=snapshot).json == {"ok": True}
    assert fresh.get("/__admin/state").json == snapshot
    # the loaded state behaves: the same device gets the same user, a replayed event is a duplicate
    again = fresh.post(api("us", "/v3/user"), json={"user_id": "dev-1"}, headers=HEADERS).json["result"]["analytic_user_id"]
    assert again == identified
    fresh.post(api("us", "/v3/track"), headers=HEADERS, json={"user_id": identified, "events": [
        {"name": "Opened", "time": 1764000000, "parameters": {}, "plt": "i", "_id": "0123456789abcdef01234567"}]})
    assert fresh.get(f"/__admin/projects/{US_KEY}/events").json["total"] == 1
    assert fresh.get("/__admin/projects/oneflow_prod_new").status_code == 200


@pytest.mark.parametrize("change, pointer", [
    (lambda s: s["projects"][0].update(plan="platinum"), "platinum"),
    (lambda s: s["projects"][0].update(region="mars"), "region"),
    (lambda s: s["state"].update(nobody={}), "nobody"),
    (lambda s: s["state"][US_KEY]["events"][0].pop("_id"), "_id"),
    (lambda s: s.update(extra=1), "extra"),
])
def test_a_bad_snapshot_is_refused_and_changes_nothing(client, change, pointer):
    fill(client)
    before = client.get("/__admin/state").json
    bad = json.loads(json.dumps(before))
    change(bad)
    response = client.put("/__admin/state", json=bad)
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert pointer in response.json["message"]
    assert client.get("/__admin/state").json == before


def test_serve_keeps_its_state_in_the_state_file_across_a_restart(tmp_path):
    state_file = tmp_path / "state.json"
    port = free_port()
    process = start("--port", str(port), "--state-file", str(state_file))
    try:
        wait_ready(port, process)
        status, body = raw_post(port, "/us/api/2021-06-15/v3/user", {"user_id": "dev-9"}, {"one_flow_key": US_KEY})
        assert status == 200
        analytic = body["result"]["analytic_user_id"]
        status, _ = raw_post(port, "/__admin/projects", {"key": "oneflow_prod_kept", "name": "Kept", "region": "us",
                                                         "plan": "free"}, {})
        assert status == 201
    finally:
        stop(process)
    assert process.returncode == 0, process.stdout.read()

    port = free_port()
    process = start("--port", str(port), "--state-file", str(state_file))
    try:
        wait_ready(port, process)
        saved = get_json(port, "/__admin/state")
        assert [u["analytic_user_id"] for u in saved["state"][US_KEY]["users"]] == [analytic]
        event = {"name": "Back", "time": 1764000000, "parameters": {}, "plt": "i", "_id": "0123456789abcdef01234567"}
        status, _ = raw_post(port, "/us/api/2021-06-15/v3/track", {"user_id": analytic, "events": [event]},
                             {"one_flow_key": "oneflow_prod_kept"})
        assert status == 200, "the project created before the restart is back"
    finally:
        stop(process)
        banner = process.stdout.read()
    assert f"state file: {state_file.resolve()} ({len(saved['projects'])} project(s) loaded" in banner


@pytest.mark.parametrize("content, says", [
    ('{"projects": [{"key": "k", "name": "n", "region": "us", "plan": "platinum"}]}', "platinum"),
    ('["mock-1flow state",2]\n["P",{"projects":[{"key":"k","name":"n","region":"us","plan":"platinum"}]}]\n', "line 2"),
    ('["mock-1flow state",2]\n["?"]\n', "line 2"),
    ("hello\n", "not a mock-1flow state file"),
])
def test_serve_refuses_a_bad_state_file_before_starting(tmp_path, content, says):
    state_file = tmp_path / "state.json"
    state_file.write_text(content)
    process = start("--port", str(free_port()), "--state-file", str(state_file))
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2 and says in output and "serving on" not in output


def test_a_state_file_holding_a_state_document_is_loaded_and_kept_as_a_log(tmp_path, client):
    """Files written before the log (a ``GET /__admin/state`` document) still load."""
    fill(client)
    document = client.get("/__admin/state").json
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(document))
    assert served_state(state_file) == document
    assert state_file.read_text().startswith('["mock-1flow state"')
