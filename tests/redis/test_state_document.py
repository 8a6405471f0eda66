"""``PUT /__admin/state`` with the state in Redis: a document taken from an in-memory mock
loads whole (one MULTI/EXEC), reads back the same, and every instance on that Redis sees it."""

from __future__ import annotations

from mock_1flow.app import create_app
from tests.conftest import US_KEY, api

H = {"one_flow_key": US_KEY}


def _fill(client) -> None:
    """Users (a device, an identify merge with parameters, a push token), events, a response."""
    assert client.post(api("us", "/v3/user"), json={"user_id": "device-1", "context": {"app": {"version": "1"}}}, headers=H).status_code == 200
    anon = client.post(api("us", "/v3/user"), json={"user_id": "device-2"}, headers=H).json["result"]["analytic_user_id"]
    assert client.post(api("us", "/v3/identify"), json={"anonymous_user_id": anon, "user_id": "app-user-7",
                                                       "parameters": {"plan": "pro", "seats": 3}}, headers=H).status_code == 200
    assert client.post(api("us", f"/v3/user/device/{anon}"), json={"token": "tok-1"}, headers=H).status_code == 200
    events = [{"_id": f"{i:024x}", "name": "opened", "time": 1, "plt": "a", "parameters": {"n": i}} for i in range(5)]
    assert client.post(api("us", "/v3/track"), json={"user_id": anon, "events": events}, headers=H).status_code == 200
    answer = {"analytic_user_id": anon, "survey_id": "64b7c0de5f1e2a0012ab34cd", "os": "iOS",
              "answers": [{"screen_id": "64b7c0de5f1e2a0012ab1001", "answer_value": "4", "answer_index": 3}],
              "trigger_event": "Order Completed", "tot_duration": 12.5, "session_id": "s1"}
    assert client.post(api("us", "/v3/response"), json=answer, headers=H).status_code == 200


def test_a_state_document_loads_into_redis_and_reads_back_the_same(app, redis_url):
    memory = create_app().test_client()
    _fill(memory)
    document = memory.get("/__admin/state").json
    loaded = document["state"][US_KEY]
    assert [len(loaded[name]) for name in ("users", "devices", "app_users", "responses", "events")] == [3, 2, 1, 1, 5]

    client = app.test_client()
    client.post(api("us", "/v3/user"), json={"user_id": "to-be-replaced"}, headers=H)
    response = client.put("/__admin/state", json=document)
    assert response.status_code == 200, response.json
    assert client.get("/__admin/state").json == document

    # another instance on the same Redis sees the loaded state, and goes on from it
    other = create_app(store=redis_url).test_client()
    assert other.get("/__admin/state").json == document
    events = [{"_id": f"{i:024x}", "name": "opened", "time": 1, "plt": "a"} for i in range(4, 7)]
    anon = document["state"][US_KEY]["devices"]["device-2"]
    tracked = other.post(api("us", "/v3/track"), json={"user_id": anon, "events": events}, headers=H).json["result"]
    assert tracked == {"stored": 2, "duplicates": 1}  # the loaded ids dedup
    assert other.get("/__admin/usage").json["events"]["stored"] == 7


def test_a_bad_state_document_changes_nothing(app):
    client = app.test_client()
    client.post(api("us", "/v3/user"), json={"user_id": "kept"}, headers=H)
    before = client.get("/__admin/state").json
    response = client.put("/__admin/state", json={"projects": [{"key": 5}]})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert client.get("/__admin/state").json == before
