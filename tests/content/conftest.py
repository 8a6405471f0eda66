"""A mock on a real loopback socket for the content tests, reset before each test, and
helpers that call the SDK API as a client does."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import requests

from mock_1flow.testing import MockServer

API = "/api/2021-06-15"


@pytest.fixture(scope="module")
def module_mock() -> Iterator[MockServer]:
    with MockServer() as mock:
        yield mock


@pytest.fixture
def mock(module_mock: MockServer) -> MockServer:
    module_mock.reset()
    return module_mock


def sdk_get(mock: MockServer, key: str, path: str, region: str = "us", **params: str) -> requests.Response:
    """``GET /{region}/api/2021-06-15{path}`` with ``one_flow_key: key``, as the SDKs send it."""
    return requests.get(f"{mock.url}/{region}{API}{path}", params=params, headers={"one_flow_key": key}, timeout=10)


def result(mock: MockServer, key: str, path: str, region: str = "us", **params: str) -> Any:
    reply = sdk_get(mock, key, path, region, **params)
    assert reply.status_code == 200, reply.text
    return reply.json()
