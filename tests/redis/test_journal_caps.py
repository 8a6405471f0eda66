"""The shared journal's caps in Redis (entries and bytes) drop the oldest entries, counted,
as the in-memory journal does: the same requests leave the same journal and usage figures."""

from __future__ import annotations

import pytest

from mock_1flow.app import create_app
from mock_1flow.server.runtime import EXTENSION_KEY
from tests.conftest import US_KEY, api


def journal_after(app, requests: int) -> tuple[dict, list[str]]:
    client = app.test_client()
    for i in range(requests):
        assert client.post(api("us", "/v3/user"), json={"user_id": f"device-{i}"}, headers={"one_flow_key": US_KEY}).status_code == 200
    usage = client.get("/__admin/usage").json["journal"]
    bodies = [entry["body"] for entry in client.get("/__admin/requests").json["requests"]]
    return usage, bodies


@pytest.mark.parametrize("limits", [{"journal_cap": 4}, {"journal_max_bytes": 5000}], ids=["entries", "bytes"])
def test_the_redis_journal_caps_keep_what_the_in_memory_journal_keeps(redis_url, limits):
    expected = journal_after(create_app(**limits), 7)
    app = create_app(store=redis_url, **limits)
    try:
        assert journal_after(app, 7) == expected
    finally:
        app.extensions[EXTENSION_KEY].journal.close()
    usage, bodies = expected
    assert usage["dropped"] > 0 and len(bodies) == usage["entries"] < 7  # the caps did drop some
