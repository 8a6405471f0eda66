"""A4, server side: the SDK API takes an SDK's whole offline backlog in one /v3/track body
(both SDKs send every queued event at once and resend the growing batch after a failure);
the limit is configurable, with a hard upper bound."""

from __future__ import annotations

import pytest

from mock_1flow.app import create_app
from mock_1flow.contracts.corpus import all_corpora
from mock_1flow.server.config import MAX_BODY_BYTES, MAX_BODY_BYTES_BOUND, MockConfig

from .conftest import send

BY_ID = {r.id: r for c in all_corpora() for r in c.requests}


def backlog(request_id: str, count: int) -> dict:
    request = BY_ID[request_id]
    template = request.body["events"][2]  # "Order Completed" with parameters
    events = [{**template, "_id": f"{i:024x}", "time": template["time"] + i} for i in range(count)]
    return {**request.body, "events": events}


@pytest.mark.parametrize("request_id", ["ios-track", "android-track"])
def test_a_backlog_of_thousands_of_events_is_taken_in_one_body(client, request_id):
    body = backlog(request_id, 10_000)
    request = BY_ID[request_id]
    size = len(request.__class__(**{**request.__dict__, "body": body}).data())
    assert size > 1024 * 1024  # well past the public HTTP API's 32 KB and the old 1 MB cap
    reply = send(client, request, body=body)
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    assert reply.get_json()["result"] == {"stored": 10_000, "duplicates": 0}


def test_the_limit_is_configurable_and_answers_413_past_it():
    client = create_app(max_body_bytes=64 * 1024).test_client()
    reply = send(client, BY_ID["ios-track"], body=backlog("ios-track", 1000))
    assert reply.status_code == 413 and reply.get_json()["error"] == "payload_too_large"
    assert "65536" in reply.get_json()["message"]


def test_the_default_and_the_hard_bound():
    assert MockConfig().max_body_bytes == MAX_BODY_BYTES == 8 * 1024 * 1024
    with pytest.raises(ValueError, match="64 MB"):
        MockConfig(max_body_bytes=MAX_BODY_BYTES_BOUND + 1)
    with pytest.raises(ValueError):
        MockConfig(max_body_bytes=0)
