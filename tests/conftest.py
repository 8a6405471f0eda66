"""Shared fixtures: an in-process mock per test, and the embedded projects' keys."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

from mock_1flow.app import create_app  # noqa: E402

US_KEY = "oneflow_prod_acme"  # us, plan free (us only)
EU_KEY = "oneflow_prod_globex"  # eu, plan enterprise (us + eu)
US_ENTERPRISE_KEY = "oneflow_sandbox_initech"  # us, plan enterprise
DOWNGRADED_KEY = "oneflow_prod_umbrella"  # eu, plan growth (us only): a downgraded plan


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()


def api(region: str, path: str) -> str:
    return f"/{region}/api/2021-06-15{path}"
