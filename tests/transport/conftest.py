"""``mock-1flow serve`` on real sockets for the transport tests: one plain server and one
``--tls`` server per test module, with helpers to read the journal back."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import httpx
import pytest

from tests.unit.test_serve import free_port, start, stop, wait_ready

EU_SDK_HOST = "sdk.example.test"  # --host-region sdk.example.test=eu
EU_HTTP_API_HOST = "ingest.example.test"  # --http-api-host ingest.example.test=eu


class Served(NamedTuple):
    port: int
    url: str  # the server root on 127.0.0.1
    ca: Path | None  # the CA to trust (with --tls)

    def verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=str(self.ca)) if self.ca else False

    def journal(self, path: str) -> dict[str, Any]:
        """The most recent journal entry for ``path``."""
        reply = httpx.get(f"{self.url}/__admin/requests", params={"path": path, "limit": 1}, verify=self.verify(), timeout=10)
        entries = reply.json()["requests"]
        assert entries, f"no journal entry for {path}"
        return entries[-1]


def _serve(*args: str, ca: Path | None = None) -> Iterator[Served]:
    port = free_port()
    process = start("--port", str(port), *args)
    try:
        wait_ready(port, process)
        yield Served(port, f"{'https' if ca else 'http'}://127.0.0.1:{port}", ca)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def plain() -> Iterator[Served]:
    yield from _serve()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("tls")
    yield from _serve("--tls", "--tls-dir", str(folder), "--host-region", f"{EU_SDK_HOST}=eu",
                      "--http-api-host", f"{EU_HTTP_API_HOST}=eu", ca=folder / "ca.pem")
