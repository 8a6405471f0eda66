"""Requests are validated against openapi.yaml: 400 with the failing location, 413 over the body limit."""

from __future__ import annotations

import json

import pytest

from mock_1flow.app import create_app
from tests.conftest import US_KEY, api

H = {"one_flow_key": US_KEY}


def post(client, path, data, content_type="application/json"):
    return client.post(api("us", path), data=data, headers={**H, "Content-Type": content_type})


def test_malformed_json(client):
    response = post(client, "/v3/track", '{"user_id": "u", "events": [')
    assert response.status_code == 400
    assert response.json["error"] == "malformed_json" and response.json["location"] == "body"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_malformed(client, literal):
    response = post(client, "/v3/track", '{"user_id": "u", "events": [{"name": "a", "time": %s, "_id": "%s"}]}' % (literal, "a" * 24))
    assert response.status_code == 400 and response.json["error"] == "malformed_json"


def test_wrong_content_type(client):
    response = post(client, "/v3/user", json.dumps({"user_id": "d"}), content_type="text/plain")
    assert response.status_code == 400 and response.json["error"] == "unsupported_content_type"
    assert "application/json" in response.json["message"]


def test_missing_field_names_its_pointer(client):
    response = client.post(api("us", "/v3/track"), json={"user_id": "u"}, headers=H)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert response.json["pointer"] == "/events" and response.json["location"] == "body"


def test_mistyped_nested_field_names_its_pointer(client):
    events = [{"name": "ok", "time": 1, "_id": "a" * 24}, {"name": "x", "time": "yesterday", "_id": "b" * 24}]
    response = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": events}, headers=H)
    assert response.status_code == 400
    assert response.json["pointer"] == "/events/1/time"
    assert "/events/1/time" in response.json["message"]
    assert response.json["errors"][0] == {"location": "body", "pointer": "/events/1/time", "message": response.json["errors"][0]["message"]}


def test_bad_object_id_and_platform(client):
    events = [{"name": "x", "time": 1, "_id": "not-hex", "plt": "z"}]
    response = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": events}, headers=H)
    assert {e["pointer"] for e in response.json["errors"]} == {"/events/0/_id", "/events/0/plt"}


def test_missing_body(client):
    response = client.post(api("us", "/v3/identify"), headers=H)
    assert response.status_code == 400 and response.json["pointer"] == ""


def test_missing_required_query_parameter(client):
    response = client.get(api("us", "/v3/announcements/inbox"), headers=H)
    assert response.status_code == 400
    assert (response.json["location"], response.json["pointer"]) == ("query", "/ids")


def test_unknown_query_parameter_is_refused_with_strict_query():
    client = create_app(strict_query=True).test_client()
    response = client.get(api("us", "/v3/survey?platfrom=iOS"), headers=H)
    assert response.status_code == 400 and response.json["pointer"] == "/platfrom"
    assert "platform" in response.json["message"]


def test_unknown_query_parameter_is_accepted_and_noted_in_the_journal(client):
    response = client.get(api("us", "/v3/survey?platform=iOS&_=1764000000"), headers=H)
    assert response.status_code == 200
    assert all("iOS" in s["platforms"] or "ios" in [p.lower() for p in s["platforms"]] for s in response.json["result"])
    entry = client.get("/__admin/requests").json["requests"][-1]
    assert entry["ignored_query"] == ["_"] and entry["query"] == "platform=iOS&_=1764000000"
    bad = client.get(api("us", "/v3/announcements/inbox?idz=1"), headers=H)
    assert bad.status_code == 400 and bad.json["pointer"] == "/ids"  # known parameters are still checked


@pytest.fixture
def client_32kb():
    """A mock with the public HTTP API's 32 KB per request (the SDK API's default is 8 MB)."""
    return create_app(max_body_bytes=32 * 1024).test_client()


def test_body_over_the_limit_is_413(client_32kb):
    client = client_32kb
    big = {"user_id": "u", "events": [{"name": "x" * 33000, "time": 1, "_id": "a" * 24}]}
    response = client.post(api("us", "/v3/track"), json=big, headers=H)
    assert response.status_code == 413 and response.json["error"] == "payload_too_large"
    assert "32768" in response.json["message"]


def test_body_just_at_the_limit_is_accepted(client_32kb):
    client = client_32kb
    user = client.post(api("us", "/v3/user"), json={"user_id": "d"}, headers=H).json["result"]["analytic_user_id"]
    body = {"user_id": user, "events": [{"name": "x", "time": 1, "_id": "a" * 24, "parameters": {"p": ""}}]}
    body["events"][0]["parameters"]["p"] = "y" * (32768 - len(json.dumps(body)))
    assert len(json.dumps(body)) == 32768
    response = client.post(api("us", "/v3/track"), data=json.dumps(body), headers={**H, "Content-Type": "application/json"})
    assert response.status_code == 200


def test_validation_reads_the_spec(monkeypatch):
    """The validator is compiled from openapi.yaml: a schema change there changes what is accepted."""
    from mock_1flow.server import validation
    from mock_1flow.server.spec import load_spec

    spec = load_spec()
    assert "TrackRequest" in spec["components"]["schemas"]
    violations = validation.validate_request("trackEvents", {"user_id": "u", "events": []})
    assert violations and violations[0]["pointer"] == "/events"
