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


def test_a_request_cancelled_while_it_waits_for_redis_unwinds_and_the_next_one_is_served(redis_server, redis_url):
    """The hot path's request waits for Redis in a greenlet (pipeline.py): if its task is
    cancelled meanwhile (the server gives up on it), the request unwinds (its ``finally``
    blocks run, so no lock or request state is left held) and the next request is served."""
    import asyncio

    from mock_1flow.server.state.redis import Shared
    from mock_1flow.server.state.redis.pipeline import hand_over

    shared = Shared(redis_url)
    bridge = shared.bridge
    assert bridge is not None
    unwound = []

    def ping(tag: str) -> bytes:
        try:
            return hand_over(shared.pack(("PING",)))
        finally:
            unwound.append(tag)

    async def scenario() -> bytes:
        assert await bridge.run(ping, "first") == b"PONG"
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            waiting = asyncio.ensure_future(bridge.run(ping, "cancelled"))
            while bridge.pipeline.connection is None or bridge.pipeline.connection.sent < 2:
                await asyncio.sleep(0.01)  # until its PING went out
            waiting.cancel()
            try:
                await waiting
            except asyncio.CancelledError:
                pass
            else:
                raise AssertionError("the cancelled request answered")
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        return await bridge.run(ping, "next")

    assert asyncio.run(scenario()) == b"PONG"
    assert unwound == ["first", "cancelled", "next"]
