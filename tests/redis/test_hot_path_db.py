"""``--store redis://HOST:PORT/N`` and ``unix://PATH?db=N``: the SDK requests, which a
served mock sends to Redis from its event loop on a connection of its own
(server/state/redis/pipeline.py), reach that server and select database N there as the rest
of the mock does: the data lands in N, nothing in 0."""

from __future__ import annotations

import time

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
        assert other.scard(f"m1f:p:{KEY}\x1fids") == 2
        assert redis_server.client().keys("m1f:*") == []  # database 0 untouched
    finally:
        other.flushdb()


def test_a_unix_socket_url_serves_the_sdk_api_through_that_socket(tmp_path):
    import shutil
    import subprocess

    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is not installed: apt-get install redis-server"
    sock = tmp_path / "redis.sock"
    server = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(unix_socket_path=str(sock), db=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, FileNotFoundError):
                assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
                time.sleep(0.02)
        with mocks(f"unix://{sock}?db=2", 1) as (port,):
            events = [{"_id": f"{i:024x}", "name": "e", "time": 1, "plt": "a"} for i in range(3)]
            for expected in ({"stored": 3, "duplicates": 0}, {"stored": 0, "duplicates": 3}):
                status, answer = sdk(port, "/v3/track", {"user_id": "u", "events": events})
                assert (status, answer["result"]) == (200, expected)
        assert client.scard(f"m1f:p:{KEY}\x1fids") == 3
    finally:
        server.terminate()
        server.wait(10)
