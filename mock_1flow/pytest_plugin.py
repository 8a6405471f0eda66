"""pytest plugin (entry point ``pytest11``): a running 1Flow mock for your tests.

Fixtures:

- ``one_flow_mock_server`` (session): a mock on a random loopback port.
- ``one_flow_mock`` (function): the same server, reset before each test; use
  ``one_flow_mock.url`` as the destination URL and its helpers to read state.
- ``segment_events`` (function): a seeded Segment event factory.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

from .testing import MockServer

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")


class MockClient:
    """What a test needs from a running mock: its URL, its journal and its state."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.url = server.url

    def base(self, region: str = "us") -> str:
        return self.server.base(region)

    def http_api_base(self, region: str = "us") -> str:
        """1Flow's HTTP API (``api_key`` header): ``{url}/{region}/v1``."""
        return self.server.http_api_base(region)

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        return self.server.admin("requests", params=params)["requests"]

    def users(self, key: str) -> list[dict[str, Any]]:
        return self.server.admin(f"projects/{key}/users")["users"]

    def events(self, key: str, **filters: Any) -> list[dict[str, Any]]:
        return self.server.admin(f"projects/{key}/events", params=filters)["events"]

    def add_project(self, key: str, name: str, region: str = "us", plan: str = "enterprise") -> dict[str, Any]:
        body = {"key": key, "name": name, "region": region, "plan": plan}
        return self.server.admin("projects", "POST", json=body)["project"]

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        return self.server.admin("faults", "POST", json=spec)["fault"]

    def reset(self) -> None:
        self.server.reset()


@pytest.fixture(scope="session")
def one_flow_mock_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture
def one_flow_mock(one_flow_mock_server: MockServer) -> MockClient:
    one_flow_mock_server.reset()
    return MockClient(one_flow_mock_server)


@pytest.fixture
def segment_events() -> Any:
    """``segment_events(count, seed=0, **options)`` -> list of Segment events."""
    from .events import generate_events

    return generate_events
