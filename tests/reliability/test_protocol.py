"""Protocol details schema checkers look at, on the routes Flask serves (admin, spec, ingest)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path, allowed", [
    ("/__admin/health", {"GET", "HEAD", "OPTIONS"}),
    ("/__admin/state", {"GET", "PUT", "HEAD", "OPTIONS"}),
    ("/openapi.yaml", {"GET", "HEAD", "OPTIONS"}),
    ("/v1/batch", {"POST", "OPTIONS"}),
    ("/v1/track", {"POST", "OPTIONS"}),
])
def test_a_405_says_which_methods_are_allowed(client, path, allowed):
    response = client.open(path, method="TRACE")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
    assert (response.json.get("error") or response.json.get("code")) == "method_not_allowed"
