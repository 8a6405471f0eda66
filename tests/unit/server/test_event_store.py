"""Stored events: compact, shown as before, deduplicated, capped with a drop counter."""

from __future__ import annotations

from mock_1flow.app import create_app
from mock_1flow.server.events import CALL_OVERHEAD_BYTES, EVENT_OVERHEAD_BYTES, EventLog
from tests.conftest import US_KEY, api

H = {"one_flow_key": US_KEY}


def events(prefix: str, n: int) -> list[dict]:
    return [{"name": f"e{i}", "time": 1764000000 + i, "_id": f"{prefix}{i:04d}".ljust(24, "0"), "parameters": {"i": i}} for i in range(n)]


def test_events_read_back_in_the_stored_shape():
    log = EventLog()
    log.add("u1", [{"name": "a", "time": 1, "_id": "a" * 24, "plt": "i", "extra": 1}, {"name": "b", "time": 2, "_id": "b" * 24}])
    stored = list(log)
    assert [set(e) for e in stored] == [{"_id", "name", "time", "parameters", "plt", "user_id", "received_at"}] * 2
    assert stored[0]["plt"] == "i" and stored[1]["parameters"] == {} and stored[1]["plt"] is None
    assert stored[0]["received_at"].endswith("Z")


def test_duplicates_inside_and_across_calls_are_stored_once():
    log = EventLog()
    assert log.add("u", events("a", 3) + events("a", 1)) == (3, 1)
    assert log.add("u", events("a", 4)) == (1, 3)
    assert len(log) == 4 and len(list(log)) == 4


def test_the_store_cap_drops_the_oldest_calls_and_counts_them():
    client = create_app(event_cap=25).test_client()
    for batch in "abcd":
        client.post(api("us", "/v3/track"), json={"user_id": "u", "events": events(batch, 10)}, headers=H)
    listed = client.get(f"/__admin/projects/{US_KEY}/events").json
    assert listed["total"] == 20 and listed["dropped"] == 20 and listed["cap"] == 25
    assert {e["_id"][0] for e in listed["events"]} == {"c", "d"}
    again = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": events("a", 10)}, headers=H)
    assert again.json["result"] == {"stored": 10, "duplicates": 0}  # dropped ids are forgotten too


def test_reset_empties_the_store_and_its_counter():
    client = create_app(event_cap=10).test_client()
    for batch in "ab":
        client.post(api("us", "/v3/track"), json={"user_id": "u", "events": events(batch, 10)}, headers=H)
    client.post("/__admin/reset", headers={"X-Mock-1flow-Admin": "1"})
    listed = client.get(f"/__admin/projects/{US_KEY}/events").json
    assert (listed["total"], listed["dropped"]) == (0, 0)


def test_usage_reports_the_stored_events_and_their_bytes():
    client = create_app(event_cap=25).test_client()
    for batch in "abc":
        client.post(api("us", "/v3/track"), json={"user_id": "u", "events": events(batch, 10)}, headers=H)
    usage = client.get("/__admin/usage").json["events"]
    assert (usage["stored"], usage["cap"], usage["dropped"]) == (20, 25, 10)
    overhead = 20 * EVENT_OVERHEAD_BYTES + 2 * (CALL_OVERHEAD_BYTES + len("u"))  # counted beside the JSON
    assert 20 * 40 + overhead < usage["bytes"] < 20 * 200 + overhead


def test_the_byte_cap_drops_the_oldest_calls_however_few_events_they_hold():
    """Memory is bounded in bytes: a few huge events push out the oldest calls even far
    below the event count cap, and the usage endpoint shows bytes within the cap."""
    client = create_app(event_max_bytes=200_000).test_client()
    blob = "x" * 60_000
    for batch in "abcde":
        big = [{"name": "big", "time": 1, "_id": f"{batch}".ljust(24, "0"), "parameters": {"blob": blob}}]
        assert client.post(api("us", "/v3/track"), json={"user_id": "u", "events": big}, headers=H).status_code == 200
    listed = client.get(f"/__admin/projects/{US_KEY}/events").json
    assert [e["_id"][0] for e in listed["events"]] == ["c", "d", "e"] and listed["dropped"] == 2
    usage = client.get("/__admin/usage").json["events"]
    assert 3 * 60_000 < usage["bytes"] <= usage["max_bytes"] == 200_000 and usage["dropped"] == 2
    client.post("/__admin/reset", headers={"X-Mock-1flow-Admin": "1"})
    assert client.get("/__admin/usage").json["events"]["bytes"] == 0
