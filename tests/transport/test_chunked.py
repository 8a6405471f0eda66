"""Chunked request bodies (``Transfer-Encoding: chunked``, what a client sends when it streams
a body of unknown length) on every API of ``mock-1flow serve``: read as a Content-Length body
is, with the same limits and errors, and read only up to the limit."""

from __future__ import annotations

import json
from typing import Any, Iterator

import httpx
import pytest

from tests.conftest import US_KEY
from tests.transport.conftest import Served

WRITE_KEY = "segment_wk_acme"
MB = 1024 * 1024


def chunks(data: bytes, size: int = 7) -> Iterator[bytes]:
    """``data`` as a generator: httpx sends it chunked (no Content-Length)."""
    for at in range(0, len(data), size):
        yield data[at:at + size]


def post(served: Served, path: str, body: Any, headers: dict[str, str], chunked: bool) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    content = chunks(data, max(7, len(data) // 50)) if chunked else data
    return httpx.post(served.url + path, content=content, timeout=60,
                      headers={"Content-Type": "application/json", **headers})


# (path, headers, a valid body, what the answer holds) for each API
VALID = {
    "sdk": ("/us/api/2021-06-15/v3/user", {"one_flow_key": US_KEY}, {"user_id": "chunked-sdk"},
            lambda body: body["success"] == 200),
    "http-api": ("/us/v1/track", {"api_key": US_KEY}, {"user_id": "chunked-http", "event": "Chunked"},
                 lambda body: body["success"] == 200),
    "segment-ingest": ("/v1/batch", {}, {"writeKey": WRITE_KEY, "batch": [
        {"type": "track", "event": "Chunked", "userId": "chunked-segment", "messageId": "chunked-1"}]},
        lambda body: body == {"success": True}),
    "admin": ("/__admin/requests/find", {}, {"path": "/v1/batch", "status": 200},
              lambda body: isinstance(body["requests"], list)),
}


@pytest.mark.parametrize("api", list(VALID))
def test_a_chunked_body_is_read_on_every_api(plain, api):
    path, headers, body, accepted = VALID[api]
    reply = post(plain, path, body, headers, chunked=True)
    assert reply.status_code == 200, reply.text
    assert accepted(reply.json()), reply.text
    if api != "admin":  # the admin API is not journaled
        entry = plain.journal(path)
        assert entry["body"] == body
        assert entry["request_headers"]["transfer-encoding"] == "chunked"  # the headers as sent
        assert "content-length" not in entry["request_headers"]


def test_a_chunked_segment_batch_is_delivered(plain):
    event = {"type": "track", "event": "Chunked Delivery", "userId": "chunked-delivered", "messageId": "chunked-2"}
    reply = post(plain, "/v1/batch", {"writeKey": WRITE_KEY, "batch": [event]}, {}, chunked=True)
    assert reply.json() == {"success": True}
    assert plain.journal("/v1/batch")["delivery"]["sent"] == 1


# (path, headers, a body over the route's limit) for each API
TOO_LARGE = {
    "sdk": ("/us/api/2021-06-15/v3/track", {"one_flow_key": US_KEY}, b'{"user_id":"u","events":[' + b" " * (9 * MB) + b"]}"),
    "http-api": ("/us/v1/batch", {"api_key": US_KEY}, b'{"batch":[' + b" " * (2 * MB) + b"]}"),
    "segment-ingest": ("/v1/batch", {}, b'{"batch":[' + b" " * (2 * MB) + b"]}"),
    "admin": ("/__admin/requests/find", {}, b'{"path":"' + b"x" * (2 * MB) + b'"}'),
}


@pytest.mark.parametrize("api", list(TOO_LARGE))
def test_a_chunked_body_over_the_limit_gets_the_content_length_error(plain, api):
    path, headers, body = TOO_LARGE[api]
    sized = post(plain, path, body, headers, chunked=False)
    streamed = post(plain, path, body, headers, chunked=True)
    assert sized.status_code in (400, 413), sized.text
    error = "code" if api == "segment-ingest" else "error"
    assert (streamed.status_code, streamed.json()[error]) == (sized.status_code, sized.json()[error])


def test_100_mb_chunked_to_v1_batch_is_refused_after_reading_a_bounded_prefix(plain):
    """Segment's limit is 500 KB a batch: the answer is ``batch_too_large``, as for a
    Content-Length body, and the mock stops reading well before the 100 MB are sent."""
    total, piece = 100 * MB, 64 * 1024
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        first = b'{"writeKey":"' + WRITE_KEY.encode() + b'","batch":['
        yield first
        sent = len(first)
        while sent < total:
            yield b" " * piece
            sent += piece

    reply = httpx.post(plain.url + "/v1/batch", content=body(), headers={"Content-Type": "application/json"}, timeout=60)
    assert (reply.status_code, reply.json()["code"]) == (400, "batch_too_large"), reply.text
    assert sent < total // 2, f"the client sent {sent} bytes: the mock kept reading past the limit"
