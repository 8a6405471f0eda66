"""HTTP/1.1 in absolute form (what a client sends through a forward proxy): the target's host
wins over ``Host`` (RFC 9112 §3.2.2), as ``:authority`` does under HTTP/2."""

from __future__ import annotations

import http.client
import json

from tests.conftest import US_KEY


def post(port: int, target: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", target, body=json.dumps(body),
                       headers={"Host": f"127.0.0.1:{port}", "Content-Type": "application/json", **headers})
    reply = connection.getresponse()
    return reply.status, json.loads(reply.read())


def test_absolute_form_routes_by_the_targets_host(plain):
    status, body = post(plain.port, "http://api.1flow.app/v1/track", {"api_key": US_KEY}, {"user_id": "abs", "event": "E"})
    assert (status, body["success"]) == (200, 200)  # 1Flow's HTTP API, not Segment's /v1/track
    status, body = post(plain.port, "http://api-sdk.1flow.app/api/2021-06-15/v3/user", {"one_flow_key": US_KEY}, {"user_id": "abs"})
    assert (status, body["success"]) == (200, 200)
    assert plain.journal("/api/2021-06-15/v3/user")["region"] == "us"
