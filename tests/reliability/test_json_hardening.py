"""What JSON the mock keeps: exactly what it can read back, or a 400 ``malformed_json``."""

from __future__ import annotations

import orjson
import pytest

from mock_1flow.server.validation import MAX_JSON_DEPTH, MalformedJson, parse_json

from ..conftest import US_KEY, api

REFUSED = {
    "infinity": b'{"user_id": "d", "context": {"n": 1e999}}',
    "negative infinity": b'{"user_id": "d", "context": {"n": -1e999}}',
    "lone high surrogate": b'{"user_id": "\\ud800"}',
    "lone low surrogate": b'{"user_id": "a\\udc00"}',
    "raw surrogate bytes": b'{"user_id": "\xed\xa0\x80"}',
    "too deep": b'{"user_id": "d", "context": ' + b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 2),
    "deeper than orjson": b'{"user_id": "d", "context": ' + b"[" * 1100 + b"]" * 1100 + b"}",
    "NaN": b'{"user_id": "d", "context": {"n": NaN}}',
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bodies_the_mock_cannot_keep_exactly_are_400_malformed_json(client, name):
    response = client.post(api("us", "/v3/user"), data=REFUSED[name],
                           headers={"one_flow_key": US_KEY, "Content-Type": "application/json"})
    assert (response.status_code, response.json["error"]) == (400, "malformed_json")
    journal = client.get("/__admin/requests")
    assert journal.status_code == 200
    orjson.loads(journal.get_data())  # strict: no bare Infinity, no lone surrogate
    assert journal.json["requests"][-1]["status"] == 400


@pytest.mark.parametrize("raw, value", [
    (b"18446744073709551615", 2**64 - 1),
    (b"123456789012345678901234567890", 123456789012345678901234567890),
    (b"-9223372036854775809", -(2**63) - 1),
    (b"-9223372036854775808", -(2**63)),
    (b'"\\ud83d\\ude00"', "\U0001F600"),
    (b"1.7976931348623157e308", 1.7976931348623157e308),
    (b'{"id": "123456789012345678901234567890"}', {"id": "123456789012345678901234567890"}),
])
def test_values_at_the_edges_are_kept_exactly(raw, value):
    assert parse_json(raw) == value and type(parse_json(raw)) is type(value)


def test_nesting_up_to_the_limit_is_accepted_and_reads_back(client):
    body = b'{"user_id": "d", "context": ' + b'{"a":' * (MAX_JSON_DEPTH - 2) + b"1" + b"}" * (MAX_JSON_DEPTH - 1)
    response = client.post(api("us", "/v3/user"), data=body, headers={"one_flow_key": US_KEY, "Content-Type": "application/json"})
    assert response.status_code == 200
    for path in ("/__admin/requests", f"/__admin/projects/{US_KEY}/users", "/__admin/state"):
        reply = client.get(path)
        assert reply.status_code == 200, path
        orjson.loads(reply.get_data())


def test_integers_past_64_bits_are_kept_exactly_end_to_end(client):
    big = 123456789012345678901234567890
    body = b'{"user_id": "0123456789abcdef01234567", "events": [{"name": "n", "time": 1764000000, "plt": "i", ' \
           b'"_id": "0123456789abcdef01234567", "parameters": {"order": %d, "neg": -%d}}]}' % (big, big)
    response = client.post(api("us", "/v3/track"), data=body, headers={"one_flow_key": US_KEY, "Content-Type": "application/json"})
    assert response.status_code == 200
    stored = client.get(f"/__admin/projects/{US_KEY}/events")
    assert stored.json["events"][0]["parameters"] == {"order": big, "neg": -big}
    assert str(big).encode() in stored.get_data() and b"e+29" not in stored.get_data()
    journal = client.get("/__admin/requests").get_data()
    assert str(big).encode() in journal and b"e+29" not in journal
    state = client.get("/__admin/state")
    assert client.put("/__admin/state", json=state.json).status_code == 200


def test_a_segment_event_with_a_huge_integer_is_delivered_exactly(client):
    big = 2**70
    body = b'{"writeKey": "segment_wk_acme", "batch": [{"type": "track", "event": "E", "anonymousId": "a", ' \
           b'"messageId": "big-1", "properties": {"n": %d}}]}' % big
    response = client.post("/v1/batch", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    stored = client.get("/__admin/projects/oneflow_prod_acme/events").json["events"]
    assert stored[0]["parameters"] == {"n": big}


def test_the_refusal_says_what_is_wrong():
    with pytest.raises(MalformedJson, match=f"at most {MAX_JSON_DEPTH}"):
        parse_json(b"[" * 200 + b"]" * 200)


BIG = 123456789012345678901234567890


@pytest.mark.parametrize("raw", [
    f"{BIG}", f"  {BIG}", f"-{BIG}", f'{{"a":{BIG}}}', f'{{"a": {BIG}}}', f"[{BIG}]", f"[1,{BIG}]",
    f'{{"a":\n\t{BIG}}}', f'{{"s": "0000000000000000000000aa", "n": [0, {BIG}]}}',
])
def test_a_big_integer_after_every_token_that_can_precede_a_number_is_kept_exactly(raw):
    """The scan that sends bodies with big integers to the exact parser looks for a digit
    run where a JSON number can start, not inside strings: none of these may be missed."""
    value = parse_json(raw.encode())
    found = value if isinstance(value, int) else None
    if isinstance(value, dict):
        found = value.get("a", (value.get("n") or [None, None])[1])
    elif isinstance(value, list):
        found = value[-1]
    assert found in (BIG, -BIG) and isinstance(found, int)
