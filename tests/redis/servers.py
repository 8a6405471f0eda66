"""``mock-1flow serve --store`` processes for the tests, over real sockets."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.redis.conftest import free_port

KEY = "oneflow_prod_acme"  # us, in the embedded projects file


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mock_1flow", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def call(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    data = None if body is None else json.dumps(body)
    connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response.status, json.loads(raw) if raw else None


def sdk(port: int, path: str, body: Any, key: str = KEY) -> tuple[int, Any]:
    return call(port, "POST", f"/us/api/2021-06-15{path}", body, {"one_flow_key": key})


def wait_ready(port: int, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            call(port, "GET", "/__admin/health")
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("mock-1flow serve did not start")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def mocks(url: str, count: int = 1, *extra: str) -> Iterator[list[int]]:
    """``count`` mocks on their own ports, all with their state in ``url``."""
    ports = [free_port() for _ in range(count)]
    processes = [start("--port", str(port), "--store", url, *extra) for port in ports]
    try:
        for port, process in zip(ports, processes):
            wait_ready(port, process)
        yield ports
    finally:
        for process in processes:
            stop(process)
