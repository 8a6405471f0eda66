"""One ``mock-1flow serve`` (granian, as users run it) for the stub tests, reset before each."""

from __future__ import annotations

import pytest
import requests

from mock_1flow.testing import ServedMock

US_KEY = "oneflow_prod_acme"  # us, plan free
EU_KEY = "oneflow_prod_globex"  # eu, plan enterprise
WRITE_KEY = "segment_wk_acme"  # Segment source of US_KEY
TRACK = {"user_id": "5f1a0c1e2b3c4d5e6f708192", "events": [
    {"name": "Order Completed", "time": 1700000000, "parameters": {"total": 30}, "_id": "65a1b2c3d4e5f60718293a4b"}]}


@pytest.fixture(scope="package")
def served():
    with ServedMock() as mock:
        yield mock


@pytest.fixture
def mock(served):
    served.reset()
    return served


def post(url: str, body: object, **headers: str) -> requests.Response:
    return requests.post(url, json=body, headers=headers, timeout=10)
