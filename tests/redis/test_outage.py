"""A mock whose Redis goes away answers 503 ``store_unavailable`` (never a 500, never from
a local copy) and answers again when Redis is back; a flushed Redis is 503 until a reset
seeds it again from the projects file. redis-server is stopped and started under a running mock."""

from __future__ import annotations

from tests.redis.servers import KEY, call, mocks, sdk

EVENT = {"_id": "a" * 24, "name": "opened", "time": 1, "plt": "a"}


def test_redis_stopped_and_started_under_a_running_mock(redis_server, redis_url):
    with mocks(redis_url, 1) as (port,):
        assert sdk(port, "/v3/track", {"user_id": "u", "events": [EVENT]})[0] == 200
        redis_server.stop(save=True)
        try:
            for path, body in (("/v3/track", {"user_id": "u", "events": [EVENT]}), ("/v3/user", {"user_id": "d"})):
                status, answer = sdk(port, path, body)
                assert (status, answer["error"]) == (503, "store_unavailable"), answer
                assert "does not answer" in answer["message"]
            status, answer = call(port, "GET", "/us/api/2021-06-15/v3/survey", headers={"one_flow_key": KEY})
            assert (status, answer["error"]) == (503, "store_unavailable")  # not served from the instance's copy
            status, answer = call(port, "GET", "/__admin/requests")
            assert (status, answer["error"]) == (503, "store_unavailable")
        finally:
            redis_server.start()
        # back, with its data: the event stored before the outage is still a duplicate
        status, answer = sdk(port, "/v3/track", {"user_id": "u", "events": [EVENT]})
        assert (status, answer["result"]) == (200, {"stored": 0, "duplicates": 1})
        assert call(port, "GET", f"/__admin/projects/{KEY}/events")[1]["total"] == 1


def test_a_flushed_redis_is_503_until_a_reset_seeds_it_again(redis_server, redis_url):
    with mocks(redis_url, 2) as (first, second):
        assert sdk(first, "/v3/user", {"user_id": "d"})[0] == 200
        redis_server.client().flushall()
        for port in (first, second):
            status, answer = sdk(port, "/v3/user", {"user_id": "d"})
            assert (status, answer["error"]) == (503, "store_unavailable")
            assert "POST /__admin/reset" in answer["message"]
            assert call(port, "GET", "/__admin/health")[0] == 503
        assert call(second, "POST", "/__admin/reset")[0] == 200
        for port in (first, second):
            assert sdk(port, "/v3/user", {"user_id": "d"})[0] == 200
        assert len(call(first, "GET", f"/__admin/projects/{KEY}/users")[1]["users"]) == 1
