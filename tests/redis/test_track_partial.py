"""``/v3/track`` with the state in Redis when a call mixes new and known ids, or repeats an
id: lua.TRACK stores the call's packed events as they came only when every id is new, so
these calls take its other path (the events sent one by one). The counts and the stored
events are the in-memory store's."""

from __future__ import annotations

from tests.conftest import US_KEY, api

US = {"one_flow_key": US_KEY}


def event(letter: str, name: str) -> dict:
    return {"name": name, "time": 1764000000, "plt": "i", "_id": letter * 24, "parameters": {"n": letter}}


def test_a_call_mixing_known_and_new_ids_stores_only_the_new_ones(client):
    first = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": [event("a", "one")]}, headers=US)
    assert first.json["result"] == {"stored": 1, "duplicates": 0}
    mixed = [event("a", "one again"), event("b", "two"), event("b", "two again"), event("c", "three")]
    answer = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": mixed}, headers=US)
    assert answer.json["result"] == {"stored": 2, "duplicates": 2}
    stored = client.get(f"/__admin/projects/{US_KEY}/events").json
    assert stored["total"] == 3
    assert [(e["_id"][0], e["name"], e["parameters"]) for e in stored["events"]] == [
        ("a", "one", {"n": "a"}), ("b", "two", {"n": "b"}), ("c", "three", {"n": "c"})]
    usage = client.get("/__admin/usage").json
    assert usage["events"]["stored"] == 3


def test_an_id_repeated_in_one_new_call_is_stored_once(client):
    answer = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": [event("d", "x"), event("d", "y")]},
                         headers=US)
    assert answer.json["result"] == {"stored": 1, "duplicates": 1}
    stored = client.get(f"/__admin/projects/{US_KEY}/events").json
    assert [e["name"] for e in stored["events"]] == ["x"]
