"""A seeded generator of hostile HTTP requests over every route family of the mock:
SDK API (path and host form), Segment's ``/v1/*``, the admin API, provider states and
faults. Bodies nest deep, carry numbers JSON cannot keep (``1e999``, integers past 64
bits), lone surrogates, invalid UTF-8, other encodings, gzip that is not, oversize
strings; methods and headers are wrong or strange. Shared by the hostile-input test and
``benchmarks/soak.py``."""

from __future__ import annotations

import base64
import gzip
import json
import random
from dataclasses import dataclass, field

BASE = "/us/api/2021-06-15"
KEY = "oneflow_prod_acme"
WRITE_KEY = "segment_wk_acme"

SDK_ROUTES = [
    ("POST", f"{BASE}/v3/user", {"user_id": "dev-1", "context": {"app": {"version": "1"}}}),
    ("POST", f"{BASE}/v3/identify", {"anonymous_user_id": "0123456789abcdef01234567", "user_id": "u1", "log_user": True, "parameters": {}}),
    ("POST", f"{BASE}/v3/track", {"user_id": "0123456789abcdef01234567", "events": [
        {"name": "e", "time": 1764000000, "parameters": {"a": 1}, "plt": "i", "_id": "0123456789abcdef01234567"}]}),
    ("POST", f"{BASE}/v3/response", {"_id": "r1", "analytic_user_id": "0123456789abcdef01234567", "survey_id": "s1",
                                     "os": "ios", "answers": [], "trigger_event": "x", "tot_duration": 1}),
    ("POST", f"{BASE}/v3/user/device/0123456789abcdef01234567", {"token": "t"}),
    ("GET", f"{BASE}/v3/survey?platform=ios&user_id=0123456789abcdef01234567", None),
    ("GET", f"{BASE}/v3/announcements?platform=ios&user_id=x", None),
    ("POST", "/api/2021-06-15/v3/track", {"user_id": "x", "events": []}),
    ("POST", "/eu/api/2021-06-15/v3/track", {"user_id": "x", "events": []}),
]
SEGMENT_ROUTES = [
    ("POST", "/v1/batch", {"writeKey": WRITE_KEY, "batch": [{"type": "track", "event": "E", "anonymousId": "a", "messageId": "m"}]}),
    ("POST", "/v1/track", {"writeKey": WRITE_KEY, "event": "E", "userId": "u", "messageId": "m2", "properties": {}}),
    ("POST", "/v1/identify", {"userId": "u", "traits": {"email": "a@b.c"}}),
    ("POST", "/v1/nope", {"userId": "u"}),
]
ADMIN_ROUTES = [
    ("POST", "/__admin/projects", {"key": "hostile", "name": "h", "region": "us", "plan": "free"}),
    ("GET", "/__admin/requests?limit=5", None),
    ("GET", "/__admin/deliveries?limit=5", None),
    ("GET", f"/__admin/projects/{KEY}/events?name=x", None),
    ("GET", "/__admin/state", None),
    ("PUT", "/__admin/state", {"projects": [{"key": KEY, "name": "Acme", "region": "us", "plan": "free"},
                                            {"key": "k", "name": "n", "region": "us", "plan": "free"}]}),
    ("DELETE", "/__admin/projects/%ff%00", None),
]
STATE_ROUTES = [
    ("POST", "/__admin/provider-states", {"state": "a rate-limited project",
                                          "params": {"key": "rl", "region": "us", "plan": "free", "retry_after": 0}}),
    ("POST", "/__admin/provider-states", {"state": "a project with a device",
                                          "params": {"key": "pd", "region": "us", "plan": "free", "device_id": "d"}}),
]
FAULT_ROUTES = [
    ("POST", "/__admin/faults", {"path": "/v3/nothing-matches", "status": 503, "retry_after": 1}),
    ("DELETE", "/__admin/faults/fault-999", None),
]
FAMILIES = {"sdk": SDK_ROUTES, "segment": SEGMENT_ROUTES, "admin": ADMIN_ROUTES, "states": STATE_ROUTES,
            "faults": FAULT_ROUTES}

HOSTILE_NUMBERS = ["1e999", "-1e999", "1e-999", "18446744073709551616", "-9223372036854775809",
                   "123456789012345678901234567890", "1.7976931348623157e309", "0.1e1", "-0", "1E400",
                   "9223372036854775807", "NaN", "Infinity", "-Infinity", "01", "1.", ".5", "0x10"]
HOSTILE_STRINGS = ['"\\ud800"', '"\\udfff"', '"a\\ud83d"', '"\\u0000"', '"\\uDC00\\uD800"', '"\u202e\u0000x"',
                   '"' + "\\\\" * 50 + '"', '"\\x41"']
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-16", "text/plain", "", "application/x-www-form-urlencoded",
                 "application/vnd.api+json", "multipart/form-data; boundary=x", "application/json; charset=latin-1"]


@dataclass
class HostileRequest:
    family: str
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def journaled(self) -> bool:
        return not self.path.startswith(("/__admin", "/openapi.yaml"))


def _nested(depth: int, leaf: str = "1") -> str:
    kinds = "[{"
    opening = "".join('{"a":' if kinds[i % 2] == "{" else "[" for i in range(depth))
    closing = "".join("}" if kinds[i % 2] == "{" else "]" for i in reversed(range(depth)))
    return opening + leaf + closing


def _replace_one_value(template: object, rng: random.Random, raw_value: str) -> str:
    """The template's JSON with one leaf (or the whole body) swapped for ``raw_value`` text."""
    text = json.dumps(template)
    marker = "\u2603MARK\u2603"

    def walk(node: object) -> object:
        if isinstance(node, dict) and node:
            key = rng.choice(sorted(node))
            return {**node, key: walk(node[key]) if rng.random() < 0.5 else marker}
        if isinstance(node, list) and node:
            index = rng.randrange(len(node))
            return [walk(v) if i == index else v for i, v in enumerate(node)]
        return marker

    if template is None or rng.random() < 0.15:
        return raw_value
    text = json.dumps(walk(template), ensure_ascii=False)
    return text.replace(json.dumps(marker, ensure_ascii=False), raw_value, 1)


def _body(rng: random.Random, template: object) -> bytes:
    choice = rng.randrange(12)
    if choice == 0:
        return _replace_one_value(template, rng, _nested(rng.choice([60, 127, 129, 200, 254, 255, 600, 1023, 1100, 3000]))).encode()
    if choice == 1:
        return _replace_one_value(template, rng, rng.choice(HOSTILE_NUMBERS)).encode()
    if choice == 2:
        return _replace_one_value(template, rng, rng.choice(HOSTILE_STRINGS)).encode()
    if choice == 3:  # invalid UTF-8 and raw surrogates in the bytes
        return _replace_one_value(template, rng, '"PLACE"').encode().replace(b"PLACE", rng.choice(
            [b"\xff\xfe", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80", b"\xf4\x90\x80\x80"]))
    if choice == 4:
        return json.dumps(template).encode(rng.choice(["utf-16", "utf-32", "utf-8-sig"]))
    if choice == 5:
        return rng.choice([b"", b"null", b"[]", b"\"x\"", b"{", b"}", b"{\"a\":1}{", b"\x00" * 16, b"{\"a\":1,\"a\":2}"])
    if choice == 6:  # big: near and over the limits (32 KB SDK, 500 KB Segment, 1 MB server)
        size = rng.choice([33 * 1024, 400 * 1024, 600 * 1024, 1100 * 1024])
        return _replace_one_value(template, rng, json.dumps("x" * size)).encode()
    if choice == 7:
        return _replace_one_value(template, rng, json.dumps(rng.choice([True, None, [], {}, -1, 2**63, "", "\u0000"]))).encode()
    if choice == 8:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if choice == 9:  # a wide object: many keys
        return json.dumps({f"k{i}": i for i in range(rng.choice([100, 5000]))}).encode()
    return json.dumps(template).encode() if template is not None else b""


def _headers(rng: random.Random, family: str) -> dict[str, str]:
    headers = {}
    content_type = rng.choice(CONTENT_TYPES)
    if content_type:
        headers["Content-Type"] = content_type
    roll = rng.randrange(10)
    if family in ("sdk",) and roll < 7:
        headers["one_flow_key"] = rng.choice([KEY, KEY, "", "x" * 5000, "oneflow_prod_ä", "oneflow_prod_globex", "\t"])
    if family == "segment":
        headers["Authorization"] = rng.choice([
            "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode(), "Basic !!!notbase64", "Bearer ",
            "Bearer " + WRITE_KEY, "Basic " + base64.b64encode(b"\xff\xfe:").decode(), "Digest x", ""])
    if roll == 8:
        headers["Content-Encoding"] = rng.choice(["gzip", "deflate", "br", "gzip, gzip"])
    if roll == 9:
        headers["Host"] = rng.choice(["api-sdk.1flow.app", "evil.example", "[::1]", "a" * 300, "api-sdk.1flow.app:99999"])
    if rng.random() < 0.1:
        headers["X-Forwarded-For"] = "1.2.3.4"
    return headers


def generate(count: int, seed: int = 0) -> list[HostileRequest]:
    """``count`` hostile requests, the same for the same seed."""
    rng = random.Random(seed)
    families = sorted(FAMILIES)
    requests = []
    for index in range(count):
        family = families[index % len(families)]
        method, path, template = rng.choice(FAMILIES[family])
        if rng.random() < 0.12:
            method = rng.choice(METHODS)
        if rng.random() < 0.1:
            path += ("&" if "?" in path else "?") + rng.choice(["cb=123", "limit=-1", "limit=1e999", "%ff=%fe", "x=" + "y" * 3000])
        body = _body(rng, template) if method not in ("GET", "HEAD", "DELETE", "OPTIONS") or rng.random() < 0.1 else None
        headers = _headers(rng, family)
        if body is not None and headers.get("Content-Encoding") == "gzip" and rng.random() < 0.5:
            body = gzip.compress(body)
        requests.append(HostileRequest(family, method, path, body, headers))
    return requests
