"""User and device ids are bounded (1,024 characters, ``UserIdText`` in the spec) on every
endpoint that takes one, over a real socket: an 8 MB ``user_id`` gets a small 400 naming the
field, not a 16 MB answer echoing it twice; an id at the bound is served."""

from __future__ import annotations

import pytest
import requests

from mock_1flow.testing import ServedMock

from ..conftest import US_KEY, api

LIMIT = 1024
HUGE = "d" * 8_000_000
SDK = {"one_flow_key": US_KEY}
HTTP_API = {"api_key": US_KEY}


@pytest.fixture(scope="module")
def served():
    with ServedMock() as mock:
        yield mock


def call(served: ServedMock, where: str, user_id: str) -> requests.Response:
    event = {"name": "Opened", "time": 1764000000, "plt": "i", "_id": "0123456789abcdef01234567"}
    calls = {
        "/v3/user": ("POST", api("us", "/v3/user"), SDK, {"user_id": user_id}),
        "/v3/identify user_id": ("POST", api("us", "/v3/identify"), SDK,
                                 {"anonymous_user_id": "0123456789abcdef01234567", "user_id": user_id, "log_user": True}),
        "/v3/identify anonymous_user_id": ("POST", api("us", "/v3/identify"), SDK,
                                           {"anonymous_user_id": user_id, "user_id": "u-1", "log_user": True}),
        "/v3/track": ("POST", api("us", "/v3/track"), SDK, {"user_id": user_id, "events": [event]}),
        "/v3/survey": ("GET", api("us", f"/v3/survey?platform=iOS&user_id={user_id}"), SDK, None),
        "/v1/identify": ("POST", "/us/v1/identify", HTTP_API, {"user_id": user_id}),
        "/v1/track": ("POST", "/us/v1/track", HTTP_API, {"user_id": user_id, "event": "Opened"}),
    }
    method, path, headers, body = calls[where]
    return requests.request(method, served.url + path, json=body, headers=headers, timeout=60)


@pytest.mark.parametrize("where, user_id", [
    *[(where, HUGE) for where in ("/v3/user", "/v3/identify user_id", "/v3/identify anonymous_user_id", "/v3/track")],
    # 1Flow's HTTP API takes bodies of 32 KB (larger ones are 413 unread): an id within that
    *[(where, "u" * 30_000) for where in ("/v1/identify", "/v1/track")],
])
def test_a_user_id_past_the_bound_gets_a_small_400_naming_the_field(served, where, user_id):
    response = call(served, where, user_id)
    body = response.json()
    assert (response.status_code, body["error"]) == (400, "invalid_request")
    assert f"longer than {LIMIT} characters" in body["message"] and len(response.content) < 4096
    assert body["pointer"] in ("/user_id", "/anonymous_user_id")


def test_a_query_user_id_past_the_bound_is_refused_the_same_way(served):
    response = call(served, "/v3/survey", "q" * (LIMIT + 1))  # a URL this long is what servers take
    assert (response.status_code, response.json()["location"]) == (400, "query")
    assert f"longer than {LIMIT} characters" in response.json()["message"]


def test_a_device_id_at_the_bound_is_served_and_echoed(served):
    response = call(served, "/v3/user", "d" * LIMIT)
    assert response.status_code == 200
    assert response.json()["result"]["devices"][0]["unique_id"] == "d" * LIMIT
