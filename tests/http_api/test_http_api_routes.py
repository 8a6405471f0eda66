"""1Flow's public HTTP API in the mock (docs.1flow.ai, integrations/http-api): identify, track
and batch in path and host form, the page's limits and errors, the state it shares with the
SDK API, and its separation from Segment's HTTP Tracking API on the same ``/v1`` paths."""

from __future__ import annotations

import json

import pytest

from mock_1flow.app import create_app
from tests.conftest import DOWNGRADED_KEY, EU_KEY, US_KEY, api

ONE_FLOW_HOST = {"Host": "api.1flow.app"}
KEY = {"api_key": US_KEY}
KB = 1024


def post(client, path, body, headers=None, **kwargs):
    return client.post(path, json=body, headers={**KEY, **(headers or {})}, **kwargs)


def users(client, key=US_KEY):
    return client.get(f"/__admin/projects/{key}/users").get_json()["users"]


def events(client, key=US_KEY):
    return client.get(f"/__admin/projects/{key}/events").get_json()["events"]


def sized(target: int, head: dict, field: str = "blob") -> bytes:
    """A JSON body of exactly ``target`` bytes: ``head`` plus a padding string."""
    empty = json.dumps({**head, field: ""}, separators=(",", ":")).encode()
    body = json.dumps({**head, field: "x" * (target - len(empty))}, separators=(",", ":")).encode()
    assert len(body) == target
    return body


# -- the operations --------------------------------------------------------------------------


def test_identify_adds_the_user_with_traits(client):
    reply = post(client, "/us/v1/identify", {"user_id": "4f25f8f5c23b41bd93679692", "traits": {"email": "test@gmail.com"},
                                              "timestamp": "2022-09-30T03:26:24.894Z"})
    assert reply.status_code == 200
    result = reply.get_json()["result"]
    assert result["user_id"] == "4f25f8f5c23b41bd93679692"
    [user] = users(client)
    assert (user["analytic_user_id"], user["user_id"], user["identified"]) == (result["analytic_user_id"], result["user_id"], True)
    assert user["parameters"] == {"email": "test@gmail.com"}


def test_identify_again_updates_the_traits_of_the_same_user(client):
    first = post(client, "/us/v1/identify", {"user_id": "u-1", "traits": {"email": "a@example.com", "plan": "free"}})
    second = post(client, "/us/v1/identify", {"user_id": "u-1", "traits": {"plan": "pro"}})
    assert first.get_json()["result"] == second.get_json()["result"]
    [user] = users(client)
    assert user["parameters"] == {"email": "a@example.com", "plan": "pro"}


def test_track_stores_the_event_at_its_timestamp(client):
    reply = post(client, "/us/v1/track", {"user_id": "u-1", "event": "Signed Up", "properties": {"plan": "pro"},
                                           "timestamp": "2022-09-30T03:26:24Z"})
    assert reply.status_code == 200
    result = reply.get_json()["result"]
    assert (result["stored"], result["duplicates"]) == (1, 0)
    [event] = events(client)
    assert (event["name"], event["parameters"], event["time"]) == ("Signed Up", {"plan": "pro"}, 1664508384)
    assert event["user_id"] == result["analytic_user_id"] == users(client)[0]["analytic_user_id"]


@pytest.mark.parametrize("stamp, epoch", [
    ("2022-09-30T05:26:24+02:00", 1664508384),
    ("2022-09-30T03:26:24", 1664508384),  # no zone: UTC
    ("2022-09-30T03:26:24.894123456Z", 1664508384),
])
def test_track_reads_iso_8601_timestamps(client, stamp, epoch):
    assert post(client, "/us/v1/track", {"user_id": "u", "event": "e", "timestamp": stamp}).status_code == 200
    assert events(client)[0]["time"] == epoch


def test_track_without_message_id_is_always_a_new_event_and_with_one_is_deduplicated(client):
    body = {"user_id": "u", "event": "Viewed", "timestamp": "2022-09-30T03:26:24Z"}
    post(client, "/us/v1/track", body)
    post(client, "/us/v1/track", body)
    assert len(events(client)) == 2
    once = {**body, "message_id": "m-1"}
    assert post(client, "/us/v1/track", once).get_json()["result"]["stored"] == 1
    assert post(client, "/us/v1/track", once).get_json()["result"] == {
        "analytic_user_id": events(client)[0]["user_id"], "stored": 0, "duplicates": 1}
    assert len(events(client)) == 3


def test_batch_applies_identifies_and_tracks_in_order(client):
    reply = post(client, "/us/v1/batch", {"batch": [
        {"type": "identify", "user_id": "u-1", "traits": {"name": "Ada"}},
        {"type": "track", "user_id": "u-1", "event": "Signed Up", "timestamp": "2022-09-30T03:26:24Z"},
        {"type": "track", "user_id": "u-2", "event": "Invited", "properties": {"by": "u-1"}},
    ]})
    assert reply.status_code == 200
    assert reply.get_json()["result"] == {"identified": 1, "stored": 2, "duplicates": 0}
    by_id = {u["user_id"]: u for u in users(client)}
    assert by_id["u-1"]["parameters"] == {"name": "Ada"} and "u-2" in by_id
    assert [(e["name"], e["user_id"]) for e in events(client)] == [
        ("Signed Up", by_id["u-1"]["analytic_user_id"]), ("Invited", by_id["u-2"]["analytic_user_id"])]


def test_a_bad_item_refuses_the_whole_batch_before_anything_is_stored(client):
    reply = post(client, "/us/v1/batch", {"batch": [
        {"type": "identify", "user_id": "u-1"},
        {"type": "track", "user_id": "u-1", "event": "ok"},
        {"type": "track", "user_id": "u-1", "event": "bad", "timestamp": "2022-02-30T00:00:00Z"},
    ]})
    body = reply.get_json()
    # refused by the spec's IsoTimestamp pattern (the item matches no batch item schema then)
    assert (reply.status_code, body["error"], body["pointer"]) == (400, "invalid_request", "/batch/2")
    assert "2022-02-30T00:00:00Z" in body["message"]
    assert users(client) == [] and events(client) == []


@pytest.mark.parametrize("path, body, pointer", [
    ("/us/v1/identify", {"traits": {}}, "/user_id"),
    ("/us/v1/identify", {"user_id": "u", "timestamp": 1664508384}, "/timestamp"),
    ("/us/v1/identify", {"user_id": "u", "timestamp": "30/09/2022"}, "/timestamp"),
    ("/us/v1/identify", {"user_id": "u", "traits": ["email"]}, "/traits"),
    ("/us/v1/track", {"user_id": "u"}, "/event"),
    ("/us/v1/track", {"user_id": "", "event": "e"}, "/user_id"),
    ("/us/v1/batch", {"batch": []}, "/batch"),
    ("/us/v1/batch", {"batch": [{"type": "page", "user_id": "u"}]}, "/batch/0"),
])
def test_invalid_bodies_are_400_naming_the_field(client, path, body, pointer):
    reply = post(client, path, body)
    data = reply.get_json()
    assert (reply.status_code, data["error"], data["location"]) == (400, "invalid_request", "body")
    assert data["pointer"] == pointer, data
    assert users(client) == []


def test_content_type_must_be_json(client):
    reply = client.post("/us/v1/track", data='{"user_id":"u","event":"e"}', headers={**KEY, "Content-Type": "text/plain"})
    assert (reply.status_code, reply.get_json()["error"]) == (400, "unsupported_content_type")
    reply = client.post("/us/v1/track", data="{not json", headers={**KEY, "Content-Type": "application/json"})
    assert (reply.status_code, reply.get_json()["error"]) == (400, "malformed_json")


# -- limits: 32 KB per standard request, 500 KB per batch request ------------------------------


@pytest.mark.parametrize("path, head, limit", [
    ("/us/v1/identify", {"user_id": "u", "traits": {}}, 32 * KB),
    ("/us/v1/track", {"user_id": "u", "event": "e", "properties": {}}, 32 * KB),
])
def test_standard_requests_take_32_kb_and_not_a_byte_more(client, path, head, limit):
    def body(size):  # pad inside the free-form object so the body stays valid
        key = "traits" if "traits" in head else "properties"
        empty = json.dumps({**head, key: {"p": ""}}, separators=(",", ":")).encode()
        return json.dumps({**head, key: {"p": "x" * (size - len(empty))}}, separators=(",", ":")).encode()

    at_limit = client.post(path, data=body(limit), headers={**KEY, "Content-Type": "application/json"})
    assert at_limit.status_code == 200, at_limit.get_json()
    over = client.post(path, data=body(limit + 1), headers={**KEY, "Content-Type": "application/json"})
    assert (over.status_code, over.get_json()["error"]) == (413, "payload_too_large")
    assert "32768 bytes (32 KB)" in over.get_json()["message"]


def _batch_body(size: int, items: int = 10) -> bytes:
    """A valid batch of ``items`` tracks, exactly ``size`` bytes."""
    def encode(pad: int) -> bytes:
        batch = [{"type": "track", "user_id": f"u-{i}", "event": "e", "properties": {"p": ""}} for i in range(items)]
        batch[0]["properties"]["p"] = "x" * pad
        return json.dumps({"batch": batch}, separators=(",", ":")).encode()

    return encode(size - len(encode(0)))


def test_batch_takes_500_kb_and_a_byte_more_is_413_with_nothing_stored(client):
    over = client.post("/us/v1/batch", data=_batch_body(500 * KB + 1), headers={**KEY, "Content-Type": "application/json"})
    assert (over.status_code, over.get_json()["error"]) == (413, "payload_too_large")
    assert "512000 bytes (500 KB)" in over.get_json()["message"]
    assert events(client) == [] and users(client) == []
    at_limit = client.post("/us/v1/batch", data=_batch_body(500 * KB), headers={**KEY, "Content-Type": "application/json"})
    assert at_limit.status_code == 200 and at_limit.get_json()["result"]["stored"] == 10


def test_a_batch_body_is_not_allowed_on_track(client):
    """A 40 KB body fits the batch endpoint, not a standard one."""
    body = _batch_body(40 * KB, items=1)
    assert client.post("/us/v1/batch", data=body, headers={**KEY, "Content-Type": "application/json"}).status_code == 200
    item = json.loads(body)["batch"][0]
    del item["type"]
    reply = client.post("/us/v1/track", data=json.dumps(item), headers={**KEY, "Content-Type": "application/json"})
    assert reply.status_code == 413


# -- keys, regions, plans, error profiles -------------------------------------------------------


@pytest.mark.parametrize("profile", ["docs", "backend"])
@pytest.mark.parametrize("headers, code", [({}, "missing_key"), ({"api_key": "oneflow_prod_nobody"}, "unknown_key")])
def test_a_missing_or_unknown_key_is_401_in_both_profiles(profile, headers, code):
    client = create_app(error_profile=profile).test_client()
    for path in ("/us/v1/identify", "/us/v1/track", "/us/v1/batch"):
        reply = client.post(path, json={"user_id": "u", "event": "e", "batch": []}, headers=headers)
        body = reply.get_json()
        assert reply.status_code == 401 and body["success"] == 401
        assert body["error"] == (code if profile == "docs" else "invalid_key")
        assert "api_key" in body["message"]


def test_the_sdk_header_is_not_the_http_api_key(client):
    reply = client.post("/us/v1/track", json={"user_id": "u", "event": "e"}, headers={"one_flow_key": US_KEY})
    assert (reply.status_code, reply.get_json()["error"]) == (401, "missing_key")


@pytest.mark.parametrize("path, key, status, code", [
    ("/ap/v1/track", US_KEY, 404, "unknown_region"),
    ("/eu/v1/track", US_KEY, 404, "region_not_in_plan"),
    ("/us/v1/track", EU_KEY, 404, "key_region_mismatch"),
    ("/eu/v1/track", DOWNGRADED_KEY, 404, "region_not_in_plan"),
])
def test_regions_and_plans_as_in_the_sdk_api(client, path, key, status, code):
    reply = client.post(path, json={"user_id": "u", "event": "e"}, headers={"api_key": key})
    assert (reply.status_code, reply.get_json()["error"]) == (status, code)


def test_key_region_mismatch_points_at_the_http_api_base(client):
    reply = client.post("/us/v1/track", json={"user_id": "u", "event": "e"}, headers={"api_key": EU_KEY})
    assert "/eu/v1/" in reply.get_json()["message"]


def test_eu_project_in_its_region(client):
    reply = client.post("/eu/v1/track", json={"user_id": "u", "event": "e"}, headers={"api_key": EU_KEY})
    assert reply.status_code == 200 and len(events(client, EU_KEY)) == 1


def test_unknown_operations_and_methods(client):
    reply = post(client, "/us/v1/page", {"user_id": "u"})
    assert (reply.status_code, reply.get_json()["error"]) == (404, "unknown_endpoint")
    assert "/v1/identify, /v1/track, /v1/batch" in reply.get_json()["message"]
    for headers, path in (({}, "/us/v1/track"), (ONE_FLOW_HOST, "/v1/batch")):
        reply = client.get(path, headers={**KEY, **headers})
        assert (reply.status_code, reply.get_json()["error"], reply.headers["Allow"]) == (405, "method_not_allowed", "POST, OPTIONS")
        reply = client.options(path, headers=headers)
        assert (reply.status_code, reply.headers["Allow"]) == (200, "POST, OPTIONS")


# -- host form, and the two APIs on /v1 -----------------------------------------------------------


def test_host_form_serves_the_same_api(client):
    reply = post(client, "/v1/identify", {"user_id": "u-1", "traits": {"a": 1}}, ONE_FLOW_HOST)
    assert reply.status_code == 200 and reply.get_json()["success"] == 200
    assert post(client, "/v1/track", {"user_id": "u-1", "event": "e"}, ONE_FLOW_HOST).status_code == 200
    assert post(client, "/v1/batch", {"batch": [{"type": "track", "user_id": "u-1", "event": "f"}]},
                {"Host": "API.1flow.app:443"}).status_code == 200
    assert [e["name"] for e in events(client)] == ["e", "f"]
    entry = client.get("/__admin/requests?path=/v1/track").get_json()["requests"][-1]
    assert (entry["region"], entry["project"], entry["status"]) == ("us", US_KEY, 200)


@pytest.mark.parametrize("path", ["/v1/identify", "/v1/track", "/v1/batch", "/v1/page", "/v1/nothing/here"])
def test_segment_requests_on_the_1flow_host_are_answered_by_1flow_only(client, path):
    """A Segment call (write key, Segment body) sent to api.1flow.app never reaches Segment's ingest."""
    segment_body = {"writeKey": "segment_wk_acme", "batch": [{"type": "track", "event": "e", "userId": "u"}],
                    "userId": "u", "event": "e", "type": "track"}
    reply = client.post(path, json=segment_body, headers=ONE_FLOW_HOST)
    body = reply.get_json()
    assert "success" in body and "code" not in body  # 1Flow's envelope, never Segment's {code, message}
    assert reply.status_code in (401, 404)
    assert events(client) == []
    assert client.get("/__admin/requests").get_json()["requests"][-1]["delivery"] is None


@pytest.mark.parametrize("host", [None, "api.segment.io", "127.0.0.1:8080", "example.com"])
def test_1flow_requests_on_other_hosts_are_answered_by_segment_only(client, host):
    headers = {**KEY, **({"Host": host} if host else {})}
    reply = client.post("/v1/identify", json={"user_id": "u-1", "traits": {}}, headers=headers)
    assert reply.status_code == 401 and reply.get_json()["code"] == "missing_write_key"  # Segment's shape
    assert users(client) == []


def test_segment_still_delivers_on_its_own_host(client):
    reply = client.post("/v1/track", json={"writeKey": "segment_wk_acme", "userId": "u-1", "event": "Order"},
                        headers={"Host": "api.segment.io"})
    assert reply.status_code == 200 and reply.get_json() == {"success": True}
    assert [e["name"] for e in events(client)] == ["Order"]


def test_the_path_form_is_1flow_on_every_host(client):
    for host in ("api.segment.io", "api.1flow.app", "localhost"):
        assert post(client, "/us/v1/track", {"user_id": "u", "event": host}, {"Host": host}).status_code == 200
    assert len(events(client)) == 3


def test_host_form_hosts_are_configurable():
    client = create_app(http_api_hosts={"1flow.test": "eu"}).test_client()
    reply = client.post("/v1/track", json={"user_id": "u", "event": "e"}, headers={"api_key": EU_KEY, "Host": "1flow.test"})
    assert reply.status_code == 200
    reply = client.post("/v1/track", json={"user_id": "u", "event": "e"}, headers={"api_key": EU_KEY, **ONE_FLOW_HOST})
    assert reply.get_json()["code"] == "missing_write_key"  # no longer mapped: Segment's


def test_host_form_errors_keep_1flow_shape_for_oversized_bodies(client):
    reply = client.post("/v1/track", data=b"x" * (40 * KB), headers={**KEY, **ONE_FLOW_HOST, "Content-Type": "application/json"})
    assert (reply.status_code, reply.get_json()["error"]) == (413, "payload_too_large")
    reply = client.post("/v1/batch", data=b"x" * (2048 * KB), headers={**KEY, **ONE_FLOW_HOST, "Content-Type": "application/json"})
    assert (reply.status_code, reply.get_json()["error"]) == (413, "payload_too_large")


# -- one state with the SDK API -------------------------------------------------------------------


def test_an_identify_here_and_one_through_the_sdk_reach_the_same_user(client):
    device = client.post(api("us", "/v3/user"), json={"user_id": "device-1"}, headers={"one_flow_key": US_KEY})
    anonymous = device.get_json()["result"]["analytic_user_id"]
    sdk = client.post(api("us", "/v3/identify"), json={"anonymous_user_id": anonymous, "user_id": "app-user-7",
                                                        "log_user": True, "parameters": {"plan": "free"}},
                      headers={"one_flow_key": US_KEY}).get_json()["result"]
    http = post(client, "/us/v1/identify", {"user_id": "app-user-7", "traits": {"email": "a@example.com"}}).get_json()["result"]
    assert http["analytic_user_id"] == sdk["analytic_user_id"]
    post(client, "/us/v1/track", {"user_id": "app-user-7", "event": "Server Event"})
    client.post(api("us", "/v3/track"), json={"user_id": sdk["analytic_user_id"], "events": [
        {"name": "App Event", "time": 1764000000, "plt": "i", "_id": "0" * 24}]}, headers={"one_flow_key": US_KEY})
    [user] = users(client)
    assert user["parameters"] == {"plan": "free", "email": "a@example.com"} and user["device_ids"] == ["device-1"]
    assert {e["name"]: e["user_id"] for e in events(client)} == {"Server Event": user["analytic_user_id"],
                                                                  "App Event": user["analytic_user_id"]}


def test_an_http_identify_first_is_the_user_a_later_sdk_login_reaches(client):
    http = post(client, "/us/v1/identify", {"user_id": "app-user-8", "traits": {"email": "b@example.com"}}).get_json()["result"]
    device = client.post(api("us", "/v3/user"), json={"user_id": "device-2"}, headers={"one_flow_key": US_KEY}).get_json()
    sdk = client.post(api("us", "/v3/identify"), json={"anonymous_user_id": device["result"]["analytic_user_id"],
                                                        "user_id": "app-user-8", "log_user": True, "parameters": {}},
                      headers={"one_flow_key": US_KEY}).get_json()["result"]
    assert sdk["analytic_user_id"] == http["analytic_user_id"]
    [user] = users(client)
    assert user["device_ids"] == ["device-2"] and user["parameters"] == {"email": "b@example.com"}


def test_reset_clears_what_the_http_api_stored(client):
    post(client, "/us/v1/track", {"user_id": "u", "event": "e"})
    client.post("/__admin/reset", headers={"X-Mock-1flow-Admin": "1"})
    assert users(client) == [] and events(client) == []


# -- journal and faults ---------------------------------------------------------------------------


def test_journal_records_http_api_requests_like_sdk_ones(client):
    post(client, "/us/v1/track", {"user_id": "u", "event": "e"})
    client.post("/us/v1/track", json={"user_id": "u", "event": "e"})
    ok, refused = client.get("/__admin/requests?path=/us/v1/*").get_json()["requests"]
    assert (ok["region"], ok["project"], ok["status"], ok["body"]["event"]) == ("us", US_KEY, 200, "e")
    assert ok["response"]["result"]["stored"] == 1
    assert (refused["status"], refused["error"], refused["project"]) == (401, "missing_key", None)
    by_project = client.get(f"/__admin/requests?project={US_KEY}").get_json()["requests"]
    assert [e["id"] for e in by_project] == [ok["id"]]


@pytest.mark.parametrize("rule", [
    {"path": "/v1/track"},
    {"path": "/v1/*", "project": US_KEY},
    {"region": "us", "project": US_KEY},
])
def test_faults_match_http_api_requests_by_path_project_and_region(client, rule):
    assert client.post("/__admin/faults", json={**rule, "status": 429, "retry_after": 3, "times": 1}).status_code == 201
    limited = post(client, "/us/v1/track", {"user_id": "u", "event": "e"})
    assert (limited.status_code, limited.headers["Retry-After"], limited.get_json()["error"]) == (429, "3", "rate_limited")
    assert events(client) == []
    assert post(client, "/us/v1/track", {"user_id": "u", "event": "e"}).status_code == 200


def test_faults_reach_the_host_form_and_other_projects_are_spared(client):
    client.post("/__admin/faults", json={"project": US_KEY, "status": 503})
    reply = post(client, "/v1/batch", {"batch": [{"type": "track", "user_id": "u", "event": "e"}]}, ONE_FLOW_HOST)
    assert (reply.status_code, reply.get_json()["error"]) == (503, "injected_fault")
    other = client.post("/us/v1/track", json={"user_id": "u", "event": "e"}, headers={"api_key": "oneflow_sandbox_initech"})
    assert other.status_code == 200
    entry = client.get("/__admin/requests?path=/v1/batch").get_json()["requests"][-1]
    assert entry["fault"] and entry["status"] == 503


def test_a_segment_fault_by_project_does_not_hit_the_http_api(client):
    """A fault for the Segment ingest's path on another host leaves 1Flow's host form alone."""
    client.post("/__admin/faults", json={"path": "/v1/track", "region": "eu", "status": 500})
    assert post(client, "/v1/track", {"user_id": "u", "event": "e"}, ONE_FLOW_HOST).status_code == 200


def test_query_parameters_and_compressed_bodies_are_refused(client):
    """FIDELITY.md: the API takes no query parameters and bodies are read as sent."""
    import gzip

    reply = post(client, "/us/v1/track?debug=1", {"user_id": "u", "event": "e"})
    assert (reply.status_code, reply.get_json()["location"], reply.get_json()["pointer"]) == (400, "query", "/debug")
    zipped = gzip.compress(json.dumps({"user_id": "u", "event": "e"}).encode())
    reply = client.post("/us/v1/track", data=zipped, headers={**KEY, "Content-Type": "application/json",
                                                               "Content-Encoding": "gzip"})
    assert (reply.status_code, reply.get_json()["error"]) == (400, "malformed_json")
    assert events(client) == []
