"""A redis-server of the tests' own on a free loopback port (session-wide), and the
in-process mock fixtures of tests/conftest.py with the state in it.

A missing ``redis-server`` fails these tests (it is not a skip): install it with
``apt-get install redis-server``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from mock_1flow.app import create_app
from mock_1flow.server.runtime import EXTENSION_KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server started (and stopped, and started again) on one port."""

    def __init__(self, binary: str, port: int, folder: Path) -> None:
        self.binary, self.port, self.folder = binary, port, folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.02)

    def stop(self, save: bool = False) -> None:
        """Stop it; ``save``: write its data to its folder first, so the next start has it back."""
        if save and self.process is not None:
            try:
                self.client().shutdown(save=True)
            except redis.ConnectionError:  # the connection closes as it shuts down
                pass
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; these tests need it: apt-get install redis-server", pytrace=False)
    server = RedisServer(binary, free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """An empty Redis for this test."""
    if redis_server.process is None:
        redis_server.start()
    redis_server.client().flushall()
    return redis_server.url


@pytest.fixture
def app(redis_url: str):
    """tests/conftest.py's in-process mock, its state in Redis. Its queued journal entries are
    written before the next test empties Redis (else they would land in that test's journal)."""
    app = create_app(store=redis_url)
    yield app
    app.extensions[EXTENSION_KEY].journal.close()
    ingest = app.extensions.get("mock_1flow.ingest")
    if ingest is not None and hasattr(ingest.background, "stop"):  # the shared queue's worker: not into the next test
        ingest.background.stop()
