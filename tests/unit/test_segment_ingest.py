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


# -- reliability: write key first, unknown source, faults, retries, project changes ------------


def events_stored(client):
    return client.get(f"/__admin/projects/{PROJECT}/events").json["events"]


def test_an_unknown_write_key_is_401_even_when_the_body_is_bad(client):
    for headers in (basic("wk_nobody"), {"Authorization": "Bearer wk_nobody"}):
        assert post(client, "/v1/batch", None, headers, raw="{nope").status_code == 401
        assert post(client, "/v1/batch", {"batch": []}, headers).json["code"] == "invalid_write_key"
    response = post(client, "/v1/batch", {"batch": [], "writeKey": "wk_nobody"})
    assert (response.status_code, response.json["code"]) == (401, "invalid_write_key")


def test_a_source_whose_project_was_deleted_is_404_unknown_source(client):
    assert client.delete(f"/__admin/projects/{PROJECT}").status_code == 200
    response = post(client, "/v1/batch", {"batch": [event()]}, basic(WRITE_KEY))
    assert (response.status_code, response.json["code"]) == (404, "unknown_source")
    assert PROJECT in response.json["message"]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_fault_on_a_segment_path_answers_its_own_status(client, status):
    client.post("/__admin/faults", json={"path": "/v1/*", "status": status, "retry_after": 3})
    response = post(client, "/v1/batch", {"batch": [event()]}, basic(WRITE_KEY))
    assert response.status_code == status
    assert response.json["code"] == ("rate_limited" if status == 429 else "injected_fault")
    assert response.headers["Retry-After"] == "3"


def test_a_failed_delivery_asks_the_client_to_retry_and_the_retry_does_not_duplicate(client):
    batch = {"batch": [event(messageId=f"m{i}", anonymousId=f"anon-{i % 2}") for i in range(4)]}
    fault = client.post("/__admin/faults", json={"path": "/v3/track", "status": 503, "times": 1}).json["fault"]
    first = post(client, "/v1/batch", batch, basic(WRITE_KEY))
    assert (first.status_code, first.json["code"]) == (503, "delivery_failed")
    failed = client.get("/__admin/deliveries", query_string={"status": "failed"}).json["deliveries"]
    assert len(failed) == 2 and {d["reason"] for d in failed} == {"503 injected_fault"}
    assert client.get("/__admin/faults").json["faults"][0]["hits"] == 1 == fault["hits"] + 1
    second = post(client, "/v1/batch", batch, basic(WRITE_KEY))
    assert second.status_code == 200
    third = post(client, "/v1/batch", batch, basic(WRITE_KEY))  # a client that retried once too often
    assert third.status_code == 200
    assert sorted(e["name"] for e in events_stored(client)) == ["Order Completed"] * 4
    deliveries = client.get("/__admin/deliveries").json
    assert deliveries["total"] == 4 and {d["status"] for d in deliveries["deliveries"]} == {"sent"}
    summaries = [r["delivery"] for r in client.get("/__admin/requests", query_string={"path": "/v1/batch"}).json["requests"]]
    assert summaries[0] == {"events": 4, "sent": 2, "dropped": {}, "failed": {"503 injected_fault": 2}, "duplicates": 0}
    assert summaries[1] == {"events": 2, "sent": 2, "dropped": {}, "failed": {}, "duplicates": 2}
    assert summaries[2] == {"events": 0, "sent": 0, "dropped": {}, "failed": {}, "duplicates": 4}


def test_a_downstream_429_is_passed_on_with_its_retry_after(client):
    client.post("/__admin/faults", json={"path": "/v3/*", "status": 429, "retry_after": 7})
    response = post(client, "/v1/batch", {"batch": [event()]}, basic(WRITE_KEY))
    assert (response.status_code, response.json["code"], response.headers["Retry-After"]) == (429, "rate_limited", "7")


def test_a_dropped_connection_downstream_is_a_503_not_a_500(client):
    client.post("/__admin/faults", json={"path": "/v3/*", "drop_connection": True, "times": 1})
    response = post(client, "/v1/batch", {"batch": [event()]}, basic(WRITE_KEY))
    assert (response.status_code, response.json["code"]) == (503, "delivery_failed")
    delivery = client.get("/__admin/deliveries").json["deliveries"][0]
    assert (delivery["status"], delivery["reason"]) == ("failed", "transport_error")
    assert post(client, "/v1/batch", {"batch": [event()]}, basic(WRITE_KEY)).status_code == 200
    assert len(events_stored(client)) == 1


def test_the_destination_follows_its_project_to_a_new_region(client):
    assert post(client, "/v1/batch", {"batch": [event(messageId="before")]}, basic(WRITE_KEY)).status_code == 200
    moved = client.post("/__admin/provider-states", json={"state": "a project",
                                                          "params": {"key": PROJECT, "region": "eu", "plan": "enterprise"}})
    assert moved.status_code == 200
    assert post(client, "/v1/batch", {"batch": [event(messageId="after")]}, basic(WRITE_KEY)).status_code == 200
    stored = events_stored(client)
    assert len(stored) == 1
    calls = client.get("/__admin/requests", query_string={"path": "/eu/api/*/v3/track"}).json["requests"]
    assert [c["status"] for c in calls] == [200]


def test_events_nested_too_deep_are_a_clear_400(client):
    deep = '{"batch":[{"type":"track","event":"x","anonymousId":"a","properties":' + '{"a":' * 300 + "1" + "}" * 300 + "}]}"
    response = post(client, "/v1/batch", None, basic(WRITE_KEY), raw=deep)
    assert (response.status_code, response.json["code"]) == (400, "invalid_json")
    assert "nested" in response.json["message"]
    assert client.get("/__admin/requests").status_code == 200


def test_concurrent_requests_get_their_own_delivery_summaries(app):
    import threading

    clients = [app.test_client() for _ in range(8)]
    errors = []

    def send(index, c):
        for round_ in range(5):
            batch = [event(messageId=f"c{index}-{round_}-{i}", anonymousId=f"anon-{index}-{i % 3}") for i in range(10)]
            response = post(c, "/v1/batch", {"batch": batch}, basic(WRITE_KEY))
            if response.status_code != 200:
                errors.append(response.status_code)

    threads = [threading.Thread(target=send, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    summaries = [r["delivery"] for r in clients[0].get("/__admin/requests", query_string={"path": "/v1/batch"}).json["requests"]]
    assert len(summaries) == 40
    assert all(s["events"] == 10 and s["sent"] == 10 for s in summaries)
    assert len(events_stored(clients[0])) == 400
