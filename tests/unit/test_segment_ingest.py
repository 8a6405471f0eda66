"""Segment's HTTP Tracking API on the mock: auth forms, gzip, limits, Segment-shaped errors,
and accepted events landing in the 1Flow project's state through the destination."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

WRITE_KEY = "segment_wk_acme"
PROJECT = "oneflow_prod_acme"


def event(kind="track", **fields):
    base = {"type": kind, "messageId": fields.pop("messageId", "m-1"), "anonymousId": "anon-1",
            "timestamp": "2026-11-24T06:00:00.000Z", "context": {"os": {"name": "iOS", "version": "17.1"}}}
    if kind == "track":
        base.update(event="Order Completed", properties={"revenue": 12.5})
    base.update(fields)
    return base


def basic(key):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def post(client, path, body, headers=None, raw=None):
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data=data, headers={"Content-Type": "application/json", **(headers or {})})


@pytest.mark.parametrize("auth", ["body", "basic", "bearer"])
def test_each_write_key_form_is_accepted_and_delivered(client, auth):
    body = {"batch": [event()]}
    headers = {}
    if auth == "body":
        body["writeKey"] = WRITE_KEY
    elif auth == "basic":
        headers = basic(WRITE_KEY)
    else:
        headers = {"Authorization": f"Bearer {WRITE_KEY}"}
    response = post(client, "/v1/batch", body, headers)
    assert response.status_code == 200 and response.json == {"success": True}
    stored = client.get(f"/__admin/projects/{PROJECT}/events").json["events"]
    assert [e["name"] for e in stored] == ["Order Completed"]
    assert stored[0]["parameters"] == {"revenue": 12.5} and stored[0]["plt"] == "i"


def test_gzip_bodies(client):
    raw = gzip.compress(json.dumps({"batch": [event()], "writeKey": WRITE_KEY}).encode())
    response = post(client, "/v1/batch", None, {"Content-Encoding": "gzip"}, raw=raw)
    assert response.status_code == 200
    bad = post(client, "/v1/batch", None, {"Content-Encoding": "gzip"}, raw=b"not gzip")
    assert (bad.status_code, bad.json["code"]) == (400, "invalid_gzip")


def test_single_event_paths_set_the_type(client):
    response = post(client, "/v1/screen", {"anonymousId": "a", "name": "Home", "messageId": "s1"}, basic(WRITE_KEY))
    assert response.status_code == 200
    names = [e["name"] for e in client.get(f"/__admin/projects/{PROJECT}/events").json["events"]]
    assert names == ["screen_Home"]


def test_journal_shows_both_sides(client):
    post(client, "/v1/batch", {"batch": [event()], "writeKey": WRITE_KEY})
    journal = client.get("/__admin/requests").json["requests"]
    segment = [r for r in journal if r["path"] == "/v1/batch"]
    oneflow = [r for r in journal if r["via"] == f"segment:{WRITE_KEY}"]
    assert len(segment) == 1 and segment[0]["status"] == 200 and segment[0]["project"] == PROJECT
    assert segment[0]["delivery"]
    assert {r["path"] for r in oneflow} == {"/us/api/2021-06-15/v3/user", "/us/api/2021-06-15/v3/track"}


@pytest.mark.parametrize(
    "raw, code",
    [("{nope", "invalid_json"), ('{"batch": []}', "invalid_request"), ('{"batch": "x"}', "invalid_request")],
)
def test_bad_bodies_are_400_with_segment_shape(client, raw, code):
    response = post(client, "/v1/batch", None, basic(WRITE_KEY), raw=raw)
    assert response.status_code == 400 and response.json["code"] == code and response.json["message"]
    assert set(response.json) == {"code", "message"}


def test_event_without_any_id_is_refused(client):
    lonely = event()
    del lonely["anonymousId"]
    response = post(client, "/v1/batch", {"batch": [lonely]}, basic(WRITE_KEY))
    assert (response.status_code, response.json["code"]) == (400, "invalid_request")


def test_event_over_32_kb(client):
    big = event(properties={"blob": "x" * 33_000})
    response = post(client, "/v1/batch", {"batch": [big]}, basic(WRITE_KEY))
    assert (response.status_code, response.json["code"]) == (400, "event_too_large")


def test_batch_over_500_kb(client):
    batch = [event(messageId=f"m{i}", properties={"blob": "x" * 30_000}) for i in range(18)]
    response = post(client, "/v1/batch", {"batch": batch}, basic(WRITE_KEY))
    assert (response.status_code, response.json["code"]) == (400, "batch_too_large")
    assert client.get(f"/__admin/projects/{PROJECT}/events").json["total"] == 0


@pytest.mark.parametrize("headers, code", [({}, "missing_write_key"), (basic("wk_nobody"), "invalid_write_key")])
def test_write_key_errors_are_401(client, headers, code):
    response = post(client, "/v1/batch", {"batch": [event()]}, headers)
    assert (response.status_code, response.json["code"]) == (401, code)


def test_unknown_event_type_path(client):
    response = post(client, "/v1/purchase", {"anonymousId": "a"}, basic(WRITE_KEY))
    assert (response.status_code, response.json["code"]) == (404, "unknown_endpoint")
