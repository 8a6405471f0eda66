"""Protocol details schema checkers look at, on the routes Flask serves (admin, spec, ingest)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path, allowed", [
    ("/__admin/health", {"GET", "HEAD", "OPTIONS"}),
    ("/__admin/state", {"GET", "PUT", "HEAD", "OPTIONS"}),
    ("/openapi.yaml", {"GET", "HEAD", "OPTIONS"}),
    ("/v1/batch", {"POST", "OPTIONS"}),
    ("/v1/track", {"POST", "OPTIONS"}),
])
def test_a_405_says_which_methods_are_allowed(client, path, allowed):
    response = client.open(path, method="TRACE")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
    assert (response.json.get("error") or response.json.get("code")) == "method_not_allowed"


def test_usage_reports_what_the_mock_holds_in_bytes(client):
    from mock_1flow.server.events import CALL_OVERHEAD_BYTES, DEFAULT_EVENT_MAX_BYTES, EVENT_OVERHEAD_BYTES

    from ..conftest import US_KEY, api

    before = client.get("/__admin/usage").json
    assert before["events"]["stored"] == 0 and before["events"]["bytes"] == 0
    body = {"user_id": "0123456789abcdef01234567", "events": [
        {"name": f"e{i}", "time": 1764000000, "parameters": {"i": i}, "plt": "i", "_id": f"{i:024x}"} for i in range(10)]}
    assert client.post(api("us", "/v3/track"), json=body, headers={"one_flow_key": US_KEY}).status_code == 200
    after = client.get("/__admin/usage").json
    assert after["events"]["stored"] == 10
    # the compact JSON of ten small events, plus each event's and the call's counted overhead
    overhead = 10 * EVENT_OVERHEAD_BYTES + CALL_OVERHEAD_BYTES + len(body["user_id"])
    assert 10 * 40 + overhead < after["events"]["bytes"] < 10 * 200 + overhead
    assert after["events"]["max_bytes"] == DEFAULT_EVENT_MAX_BYTES
    assert after["journal"]["entries"] == 1 and after["journal"]["bytes"] > len(str(body))
    assert after["deliveries"] == {"entries": 0, "bytes": 0, "max_bytes": 32 * 2**20, "cap": 100_000, "dropped": 0}
