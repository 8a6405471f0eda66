"""``--store redis://HOST:PORT/N``: the SDK requests, which a served mock sends to Redis from
its event loop on a connection of its own (server/state/redis/pipeline.py), select database
N there as the rest of the mock does: the data lands in N, nothing in 0."""

from __future__ import annotations

import redis

from tests.redis.servers import KEY, call, mocks, sdk


def test_sdk_requests_write_to_the_database_the_url_names(redis_server, redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/3"
    other = redis.Redis(port=redis_server.port, db=3)
    other.flushdb()
    try:
        with mocks(url, 1) as (port,):
            events = [{"_id": f"{i:024x}", "name": "e", "time": 1, "plt": "a"} for i in range(2)]
            status, answer = sdk(port, "/v3/track", {"user_id": "u", "events": events})
            assert (status, answer["result"]) == (200, {"stored": 2, "duplicates": 0})
            assert call(port, "GET", f"/__admin/projects/{KEY}/events")[1]["total"] == 2
        assert other.hget(f"m1f:p:{KEY}\x1fm", "count") == b"2"
        assert redis_server.client().keys("m1f:*") == []  # database 0 untouched
    finally:
        other.flushdb()
