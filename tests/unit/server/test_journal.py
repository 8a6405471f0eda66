"""The journal: raw bodies decoded on read, headers (redacted secrets), bounded in entries
and bytes, truncation flagged, count and find, and a warning for a near-miss key header."""

from __future__ import annotations

from mock_1flow.app import create_app
from mock_1flow.server.journal import Journal
from tests.conftest import US_KEY, api

H = {"one_flow_key": US_KEY}


def user(client, device: str, headers: dict | None = None):
    return client.post(api("us", "/v3/user"), json={"user_id": device}, headers={**H, **(headers or {})})


def test_headers_are_journaled_and_secrets_redacted():
    client = create_app(journal_redact=("authorization", "x-api-secret")).test_client()
    user(client, "d1", {"Authorization": "Bearer s3cret", "X-Api-Secret": "hush", "X-Trace": "t-1"})
    entry = client.get("/__admin/requests").json["requests"][0]
    headers = entry["request_headers"]
    assert headers["one_flow_key"] == US_KEY and headers["x-trace"] == "t-1"
    assert headers["authorization"] == "[redacted]" and headers["x-api-secret"] == "[redacted]"
    assert entry["response_headers"]["content-type"] == "application/json"


def test_authorization_is_redacted_by_default(client):
    user(client, "d1", {"Authorization": "Basic c2VjcmV0Og=="})
    assert client.get("/__admin/requests").json["requests"][0]["request_headers"]["authorization"] == "[redacted]"


def test_a_near_miss_of_the_key_header_is_warned_about(client):
    response = client.post(api("us", "/v3/user"), json={"user_id": "d1"}, headers={"OneFlowKey": US_KEY})
    assert response.json["error"] == "missing_key"
    entry = client.get("/__admin/requests").json["requests"][0]
    assert "OneFlowKey" in entry["warning"] or "oneflowkey" in entry["warning"]
    user(client, "d2")
    assert client.get("/__admin/requests").json["requests"][1]["warning"] is None


def test_count_and_find(client):
    user(client, "d1", {"X-Trace": "run-1"})
    user(client, "d2", {"X-Trace": "run-2"})
    client.post(api("us", "/v3/user"), json={"user_id": "d3"})  # no key: 404
    assert client.get("/__admin/requests/count").json == {"count": 3}
    assert client.get("/__admin/requests/count?status=404&error=missing_key").json == {"count": 1}
    found = client.post("/__admin/requests/find", json={"headers": {"X-Trace": "run-*"}, "body_contains": "d2"}).json
    assert found["total"] == 1 and found["requests"][0]["body"] == {"user_id": "d2"}
    later = client.post("/__admin/requests/find", json={"since_id": 2}).json
    assert [r["id"] for r in later["requests"]] == [3]
    bad = client.post("/__admin/requests/find", json={"statuss": 200})
    assert bad.status_code == 400 and bad.json["error"] == "invalid_request"


def test_long_bodies_are_kept_truncated_and_flagged():
    client = create_app(journal_body_max=100).test_client()
    big = {"user_id": "u", "events": [{"name": "x" * 500, "time": 1, "_id": "a" * 24}]}
    client.post(api("us", "/v3/track"), json=big, headers=H)
    entry = client.get("/__admin/requests").json["requests"][0]
    assert entry["body_truncated"] is True and isinstance(entry["body"], str) and len(entry["body"]) == 100
    assert entry["status"] == 200


def test_the_journal_is_bounded_in_bytes_and_counts_what_it_drops():
    journal = Journal(cap=1000, max_bytes=20_000)
    for n in range(100):
        journal.record(started=0.0, duration_ms=0.1, method="POST", path="/x", query="", region=None, project=None,
                       status=200, error=None, body=b"x" * 1000, response=b"{}")
    assert journal.bytes <= 20_000 and len(journal) < 100
    assert journal.recorded == 100 and journal.dropped == 100 - len(journal)
    entries, total = journal.query()
    assert total == len(journal) and entries[-1]["id"] == 100


def test_bodies_are_stored_as_bytes_and_read_back_as_json(client):
    user(client, "d1")
    entry = client.get("/__admin/requests").json["requests"][0]
    assert entry["body"] == {"user_id": "d1"} and entry["response"]["result"]["analytic_user_id"]
