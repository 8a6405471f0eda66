"""Every v3 endpoint's success path and its effect on the project's state."""

from __future__ import annotations

from tests.conftest import EU_KEY, US_KEY, api

US = {"one_flow_key": US_KEY}


def add_user(client, device="device-1", headers=US, region="us", **context):
    response = client.post(api(region, "/v3/user"), json={"user_id": device, "context": context}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["result"]["analytic_user_id"]


def test_add_user_returns_a_stable_analytic_id_per_device(client):
    first = add_user(client, "device-1", os={"name": "iOS", "version": "17.1"})
    again = add_user(client, "device-1")
    other = add_user(client, "device-2")
    assert first == again != other
    assert len(first) == 24 and int(first, 16) >= 0
    users = client.get(f"/__admin/projects/{US_KEY}/users").json["users"]
    assert {u["analytic_user_id"] for u in users} == {first, other}
    stored = next(u for u in users if u["analytic_user_id"] == first)
    assert stored["device_ids"] == ["device-1"] and stored["identified"] is False
    assert stored["context"]["os"] == {"name": "iOS", "version": "17.1"}


def test_the_envelope_wraps_every_answer(client):
    body = client.post(api("us", "/v3/user"), json={"user_id": "d"}, headers=US).json
    assert body["success"] == 200 and isinstance(body["message"], str) and "result" in body


def test_identify_links_the_anonymous_user_and_returns_the_identified_id(client):
    anonymous = add_user(client, "device-1")
    response = client.post(
        api("us", "/v3/identify"),
        json={"anonymous_user_id": anonymous, "user_id": "user-42", "log_user": True, "parameters": {"email": "a@b.co"}},
        headers=US,
    )
    assert response.status_code == 200
    identified = response.json["result"]["analytic_user_id"]
    assert identified != anonymous and response.json["result"]["session_id"]
    users = client.get(f"/__admin/projects/{US_KEY}/users").json["users"]
    assert [u["analytic_user_id"] for u in users] == [identified]
    user = users[0]
    assert user["user_id"] == "user-42" and user["identified"] is True
    assert user["anonymous_ids"] == [anonymous] and user["device_ids"] == ["device-1"]
    assert user["parameters"] == {"email": "a@b.co"}
    # The same app user from a second device gets the same id, and both devices.
    second = add_user(client, "device-2")
    again = client.post(
        api("us", "/v3/identify"), json={"anonymous_user_id": second, "user_id": "user-42"}, headers=US
    ).json["result"]["analytic_user_id"]
    assert again == identified
    user = client.get(f"/__admin/projects/{US_KEY}/users").json["users"][0]
    assert user["device_ids"] == ["device-1", "device-2"]


def test_track_stores_each_event_against_the_user_once(client):
    user = add_user(client)
    events = [
        {"name": "Order Completed", "time": 1764000000, "parameters": {"revenue": 9.5}, "plt": "i", "_id": "a" * 24},
        {"name": "screen_Home", "time": 1764000001, "plt": "a", "_id": "b" * 24},
    ]
    response = client.post(api("us", "/v3/track"), json={"user_id": user, "events": events}, headers=US)
    assert response.json["result"] == {"stored": 2, "duplicates": 0}
    retry = client.post(api("us", "/v3/track"), json={"user_id": user, "events": events[:1]}, headers=US)
    assert retry.json["result"] == {"stored": 0, "duplicates": 1}
    stored = client.get(f"/__admin/projects/{US_KEY}/events").json
    assert stored["total"] == 2
    first = stored["events"][0]
    assert {k: first[k] for k in ("_id", "name", "time", "parameters", "plt", "user_id")} == {
        "_id": "a" * 24, "name": "Order Completed", "time": 1764000000,
        "parameters": {"revenue": 9.5}, "plt": "i", "user_id": user,
    }
    assert stored["events"][1]["parameters"] == {}
    only = client.get(f"/__admin/projects/{US_KEY}/events?name=screen_Home").json
    assert [e["_id"] for e in only["events"]] == ["b" * 24]


def test_state_is_per_project(client):
    add_user(client, "device-1")
    add_user(client, "device-eu", headers={"one_flow_key": EU_KEY}, region="eu")
    us_devices = [u["device_ids"] for u in client.get(f"/__admin/projects/{US_KEY}/users").json["users"]]
    eu_devices = [u["device_ids"] for u in client.get(f"/__admin/projects/{EU_KEY}/users").json["users"]]
    assert us_devices == [["device-1"]] and eu_devices == [["device-eu"]]


def test_survey_list_is_served_from_fixtures_with_throttling_config(client):
    body = client.get(api("us", "/v3/survey?platform=iOS&user_id=u&min_version=2&language_code=en"), headers=US).json
    assert body["success"] == 200
    assert [s["name"] for s in body["result"]] == ["Checkout satisfaction", "NPS"]
    assert body["throttlingMobileSDKConfig"]["isThrottlingActivated"] is False
    web = client.get(api("us", "/v3/survey?platform=web"), headers=US).json["result"]
    assert [s["name"] for s in web] == ["Checkout satisfaction"]


def test_one_survey_and_unknown_survey(client):
    survey_id = client.get(api("us", "/v3/survey"), headers=US).json["result"][0]["_id"]
    one = client.get(api("us", f"/v3/survey/{survey_id}"), headers=US)
    assert one.status_code == 200 and one.json["result"]["_id"] == survey_id
    assert one.json["result"]["screens"][0]["input"]["input_type"] == "rating-emojis"
    missing = client.get(api("us", "/v3/survey/nope"), headers=US)
    assert missing.status_code == 404 and missing.json["error"] == "unknown_survey"


def test_survey_response_is_stored(client):
    user = add_user(client)
    answer = {
        "analytic_user_id": user, "survey_id": "64b7c0de5f1e2a0012ab34cd", "os": "iOS",
        "answers": [{"screen_id": "64b7c0de5f1e2a0012ab1001", "answer_value": "4", "answer_index": 3}],
        "trigger_event": "Order Completed", "tot_duration": 12.5, "session_id": "s1",
    }
    response = client.post(api("us", "/v3/response"), json=answer, headers=US)
    assert response.status_code == 200 and response.json["result"]["_id"]
    stored = client.get(f"/__admin/projects/{US_KEY}/responses").json["responses"]
    assert len(stored) == 1 and stored[0]["answers"] == answer["answers"]
    assert stored[0]["_id"] == response.json["result"]["_id"]


def test_announcements_and_details(client):
    body = client.get(api("us", "/v3/announcements?platform=iOS&user_id=u"), headers=US).json["result"]
    inbox_ids = [a["_id"] for a in body["announcements"]["inbox"]]
    assert inbox_ids and body["announcements"]["inApp"] and body["theme"]
    details = client.get(api("us", f"/v3/announcements/inbox?ids={inbox_ids[0]},unknown"), headers=US).json
    assert [d["id"] for d in details["result"]] == [inbox_ids[0]]
    assert set(details["result"][0]) >= {"id", "title", "publishedAt", "category", "content", "action"}


def test_push_token_is_stored_on_the_user(client):
    user = add_user(client)
    response = client.post(api("us", f"/v3/user/device/{user}"), json={"token": "apns-token-1"}, headers=US)
    assert response.status_code == 200 and response.json["result"]["analytic_user_id"] == user
    stored = client.get(f"/__admin/projects/{US_KEY}/users").json["users"][0]
    assert stored["push_tokens"] == ["apns-token-1"]


def test_host_form_routes_by_host_header(client):
    headers = {**US, "Host": "api-sdk.1flow.app"}
    response = client.post("/api/2021-06-15/v3/user", json={"user_id": "device-h"}, headers=headers)
    assert response.status_code == 200
    assert client.get("/__admin/requests?limit=1").json["requests"][0]["region"] == "us"
    unmapped = client.post("/api/2021-06-15/v3/user", json={"user_id": "d"}, headers={**US, "Host": "example.test"})
    assert unmapped.status_code == 404 and unmapped.json["error"] == "unknown_region"
    assert "--host-region" in unmapped.json["message"]


def test_host_map_is_configurable():
    from mock_1flow.app import create_app

    client = create_app(host_regions={"eu.sdk.test": "eu"}).test_client()
    response = client.post(
        "/api/2021-06-15/v3/user", json={"user_id": "d"}, headers={"one_flow_key": EU_KEY, "Host": "eu.sdk.test:443"}
    )
    assert response.status_code == 200


def test_spec_is_served(client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert b"operationId: trackEvents" in response.data
