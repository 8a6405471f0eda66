"""A Redis that stops answering (SIGSTOP: its connections stay open) under a running mock:
SDK requests, which await Redis on the event loop (server/state/redis/pipeline.py), get
503 ``store_unavailable`` after the socket timeout, never a hang or a 500, while the admin
API still answers; when Redis resumes, so does the mock, on a new connection."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

from mock_1flow.server.state.redis import SOCKET_TIMEOUT
from tests.redis.servers import call, mocks, sdk


def track(port: int, first: int) -> tuple[int, dict]:
    events = [{"_id": f"{first + i:024x}", "name": "e", "time": 1, "plt": "a"} for i in range(3)]
    return sdk(port, "/v3/track", {"user_id": "u", "events": events})


def test_a_stalled_redis_is_503_after_the_timeout_and_the_mock_resumes_with_it(redis_server, redis_url):
    with mocks(redis_url, 1) as (port,):
        assert track(port, 0)[0] == 200
        assert redis_server.process is not None
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with ThreadPoolExecutor(4) as pool:  # concurrent requests share the stalled connection
                answers = list(pool.map(lambda n: track(port, 100 * (n + 1)), range(4)))
            waited = time.monotonic() - started
            for status, answer in answers:
                assert (status, answer["error"]) == (503, "store_unavailable"), answer
                assert "does not answer" in answer["message"] and "TimeoutError" in answer["message"]
            assert SOCKET_TIMEOUT * 0.9 <= waited < SOCKET_TIMEOUT * 2 + 3  # the timeout, not a hang
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 10
        while (status := track(port, 1000)[0]) != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status == 200
        # the first call's events are still stored once; the journal has the stalled calls too
        status, answer = track(port, 0)
        assert (status, answer["result"]) == (200, {"stored": 0, "duplicates": 3})
        journal = call(port, "GET", "/__admin/requests?path=/us/api/2021-06-15/v3/track")[1]
        assert [entry["status"] for entry in journal["requests"]].count(503) == 4
