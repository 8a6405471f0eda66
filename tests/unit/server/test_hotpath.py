"""The SDK API's hot path: the in-process client runs it, methods and query parameters
are answered as HTTP says (405 + Allow, OPTIONS), the gate and journal are unchanged."""

from __future__ import annotations

from mock_1flow.app import create_app
from mock_1flow.server.hotpath import HotPath
from tests.conftest import US_KEY, api

H = {"one_flow_key": US_KEY}
EVENT = {"name": "Order Completed", "time": 1764000000, "_id": "a" * 24}


def test_the_test_client_goes_through_the_hot_path(app, client):
    assert isinstance(app.wsgi_app, HotPath)
    response = client.post(api("us", "/v3/track"), json={"user_id": "u1", "events": [EVENT]}, headers=H)
    assert response.status_code == 200 and response.json["result"] == {"stored": 1, "duplicates": 0}
    assert [e["name"] for e in client.get(f"/__admin/projects/{US_KEY}/events").json["events"]] == ["Order Completed"]


def test_a_wrong_method_on_a_known_path_is_405_with_allow(client):
    response = client.get(api("us", "/v3/track"), headers=H)
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST, OPTIONS"
    put = client.put(api("us", "/v3/survey/abc"), headers=H)
    assert put.status_code == 405 and put.headers["Allow"] == "GET, HEAD, OPTIONS"
    entry = client.get("/__admin/requests").json["requests"][0]
    assert (entry["status"], entry["error"], entry["response_headers"]["allow"]) == (405, "method_not_allowed", "POST, OPTIONS")


def test_options_lists_only_the_real_methods(client):
    response = client.options(api("us", "/v3/user/device/0123456789abcdef01234567"))
    assert response.status_code == 200 and response.headers["Allow"] == "POST, OPTIONS"
    assert client.options(api("us", "/v3/survey")).headers["Allow"] == "GET, HEAD, OPTIONS"


def test_unknown_paths_stay_404_for_every_method(client):
    for method in ("GET", "POST", "PUT", "DELETE", "OPTIONS"):
        response = client.open(api("us", "/v3/nothing"), method=method, headers=H)
        assert (response.status_code, response.json["error"]) == (404, "unknown_endpoint"), method
    assert client.post(api("us", "/v3/bulk"), headers=H).json["error"] == "bulk_not_supported"


def test_head_on_a_read_operation_answers_without_a_body(client):
    response = client.head(api("us", "/v3/survey"), headers=H)
    assert response.status_code == 200 and response.data == b""


def test_a_dropped_connection_fault_is_journaled_with_status_0(client):
    client.post("/__admin/faults", json={"path": "/v3/track", "drop_connection": True, "times": 1})
    try:
        client.post(api("us", "/v3/track"), json={"user_id": "u", "events": [EVENT]}, headers=H)
    except ConnectionAbortedError:
        pass
    entry = client.get("/__admin/requests").json["requests"][-1]
    assert (entry["status"], entry["error"], entry["body"]["user_id"]) == (0, "connection_dropped", "u")
    assert client.get(f"/__admin/projects/{US_KEY}/events").json["total"] == 0


def test_strict_query_keeps_the_400_for_unknown_parameters():
    strict = create_app(strict_query=True).test_client()
    response = strict.get(api("us", "/v3/announcements?cache=1"), headers=H)
    assert response.status_code == 400 and response.json["pointer"] == "/cache"
