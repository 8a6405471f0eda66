"""``via`` says which part of the mock made a request (the Segment ingest's in-process
deliveries: ``segment:<write key>``); it comes from the mock itself, never from a header a
client can send."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import US_KEY

FORGED = {"X-Mock-1flow-Via": "segment:segment_wk_acme"}


@pytest.mark.parametrize(("path", "headers", "body"), [
    ("/us/api/2021-06-15/v3/user", {"one_flow_key": US_KEY}, {"user_id": "forger"}),
    ("/us/v1/track", {"api_key": US_KEY}, {"user_id": "forger", "event": "Forged"}),
])
def test_a_client_cannot_claim_the_ingests_provenance(plain, path, headers, body):
    reply = httpx.post(plain.url + path, json=body, headers={**headers, **FORGED}, timeout=10)
    assert reply.status_code == 200, reply.text
    entry = plain.journal(path)
    assert entry["via"] is None
    assert entry["request_headers"]["x-mock-1flow-via"] == FORGED["X-Mock-1flow-Via"]  # shown as sent, nothing more


def test_the_ingests_own_deliveries_carry_via(plain):
    event = {"type": "track", "event": "Provenance", "userId": "via-user", "messageId": "via-1"}
    reply = httpx.post(plain.url + "/v1/batch", json={"writeKey": "segment_wk_acme", "batch": [event]}, timeout=10)
    assert reply.json() == {"success": True}
    delivered = plain.journal("/us/api/2021-06-15/v3/track")
    assert delivered["via"] == "segment:segment_wk_acme"
    assert "x-mock-1flow-via" not in delivered["request_headers"]
    assert plain.journal("/v1/batch")["via"] is None
