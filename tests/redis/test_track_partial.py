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


def test_the_event_cap_after_a_project_reset_drops_only_what_is_still_stored(redis_url):
    """A project reset takes its calls out of the cap's order: the cap then drops the oldest
    calls still stored (another project's), and its counts stay exact."""
    from mock_1flow.app import create_app
    from mock_1flow.server.runtime import EXTENSION_KEY
    from tests.conftest import EU_KEY

    app = create_app(store=redis_url, event_cap=4)
    client = app.test_client()
    try:
        eu = {"one_flow_key": EU_KEY}
        for letter in "ab":
            answer = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": [event(letter, "us")]}, headers=US)
            assert answer.json["result"] == {"stored": 1, "duplicates": 0}, answer.json
        for letter in "cd":
            answer = client.post(api("eu", "/v3/track"), json={"user_id": "u", "events": [event(letter, "eu")]}, headers=eu)
            assert answer.json["result"] == {"stored": 1, "duplicates": 0}, answer.json
        assert client.post(f"/__admin/projects/{US_KEY}/reset", headers={"X-Mock-1flow-Admin": "1"}).status_code == 200
        for letter in "ef0":  # 2 + 3 events over a cap of 4: "c", the oldest still stored, goes
            answer = client.post(api("us", "/v3/track"), json={"user_id": "u", "events": [event(letter, "us")]}, headers=US)
            assert answer.json["result"] == {"stored": 1, "duplicates": 0}, answer.json
        assert [e["_id"][0] for e in client.get(f"/__admin/projects/{EU_KEY}/events").json["events"]] == ["d"]
        assert [e["_id"][0] for e in client.get(f"/__admin/projects/{US_KEY}/events").json["events"]] == ["e", "f", "0"]
        usage = client.get("/__admin/usage").json["events"]
        assert (usage["stored"], usage["dropped"]) == (4, 1)
    finally:
        app.extensions[EXTENSION_KEY].journal.close()
