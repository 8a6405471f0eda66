"""``--store redis://HOST:PORT/N``, ``unix://PATH?db=N`` and ``redis://:PASSWORD@...``: the
SDK requests, which a served mock sends to Redis from its event loop on a connection of its
own (server/state/redis/pipeline.py), reach that server, authenticate and select database N
there as the rest of the mock does: the data lands in N, nothing in 0."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.redis.conftest import free_port
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


def own_redis(folder: Path, *args: str) -> subprocess.Popen[bytes]:
    """A redis-server of this test's own (a Unix socket, a password)."""
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server is not installed: apt-get install redis-server"
    return subprocess.Popen([binary, "--save", "", "--appendonly", "no", "--dir", str(folder), *args], stdout=subprocess.DEVNULL)


def wait_for(client: redis.Redis, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return
        except (redis.ConnectionError, FileNotFoundError):
            assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
            time.sleep(0.02)


def track_twice(port: int) -> None:
    events = [{"_id": f"{i:024x}", "name": "e", "time": 1, "plt": "a"} for i in range(3)]
    for expected in ({"stored": 3, "duplicates": 0}, {"stored": 0, "duplicates": 3}):
        status, answer = sdk(port, "/v3/track", {"user_id": "u", "events": events})
        assert (status, answer["result"]) == (200, expected)


def test_a_unix_socket_url_serves_the_sdk_api_through_that_socket(tmp_path):
    sock = tmp_path / "redis.sock"
    server = own_redis(tmp_path, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700")
    try:
        client = redis.Redis(unix_socket_path=str(sock), db=2)
        wait_for(client, server)
        with mocks(f"unix://{sock}?db=2", 1) as (port,):
            track_twice(port)
        assert client.scard(f"m1f:p:{KEY}\x1fids") == 3
    finally:
        server.terminate()
        server.wait(10)


def test_a_password_in_the_url_authenticates_the_sdk_api_connection_too(tmp_path):
    port = free_port()
    server = own_redis(tmp_path, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "s3cret")
    try:
        client = redis.Redis(port=port, password="s3cret")
        wait_for(client, server)
        with mocks(f"redis://:s3cret@127.0.0.1:{port}/0", 1) as (mock,):
            track_twice(mock)
        assert client.scard(f"m1f:p:{KEY}\x1fids") == 3
    finally:
        server.terminate()
        server.wait(10)
