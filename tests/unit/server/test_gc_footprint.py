"""What the journal and the event store keep must be invisible to the garbage collector
once it has looked at it once: a tracked object there is walked at every collection of its
generation, and 10,000 tracked journal entries made 6-12 ms pauses under load (the p99 of
benchmarks/compare.py). Structure, not timing: each stored object is checked untracked."""

from __future__ import annotations

import gc

from tests.conftest import US_KEY, api


def track(client, n: int) -> None:
    events = [{"name": "Product Viewed", "time": 1764000000 + i, "plt": "i", "_id": f"{n:016x}{i:08x}",
               "parameters": {"sku": f"SKU-{i}", "price": 9.99 + i}} for i in range(10)]
    response = client.post(api("us", "/v3/track"), json={"user_id": "u1", "events": events},
                           headers={"one_flow_key": US_KEY, "X-Trace": f"t-{n}"})
    assert response.status_code == 200


def test_journal_entries_and_stored_calls_are_untracked_after_one_young_collection(app, client):
    for n in range(300):
        track(client, n)
    gc.collect(0)
    runtime = app.extensions["mock_1flow"]
    rows = list(runtime.journal._entries)
    assert len(rows) == 300
    assert not [row for row in rows if gc.is_tracked(row)]
    log = runtime.store.state(US_KEY).events
    assert not [ids for ids in log.call_ids if gc.is_tracked(ids)]
    # and the journal still reads back what was recorded, headers in order
    entry = client.get("/__admin/requests?limit=1").json["requests"][0]
    assert entry["request_headers"]["x-trace"] == "t-299"
    assert entry["response_headers"]["content-type"] == "application/json"
