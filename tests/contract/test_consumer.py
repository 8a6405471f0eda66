"""Pact consumer contracts: what the destination's client expects of the 1Flow API.

The client (not hand-written HTTP) runs against Pact's mock server; the contract is
written to a temporary folder and compared with the committed ``contracts/`` file, so a
change of expectations shows as a diff in review. To accept a change:

    MOCK_1FLOW_UPDATE_CONTRACTS=1 pytest tests/contract
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest
from pact import Pact, match

from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.errors import DeliveryError
from mock_1flow.destination.settings import Settings
from mock_1flow.paths import CONTRACTS_DIR

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

CONSUMER, PROVIDER = "segment-1flow-destination", "1flow-api"
CONTRACT = f"{CONSUMER}-{PROVIDER}.json"
ACME = {"key": "oneflow_prod_acme", "region": "us", "plan": "free"}
GLOBEX = {"key": "oneflow_prod_globex", "region": "eu", "plan": "enterprise"}
OBJECT_ID = r"^[0-9a-f]{24}$"
BASE = "/{region}/api/2021-06-15"


def path(region: str, suffix: str) -> str:
    return BASE.format(region=region) + suffix


def envelope(result: object, **extra: object) -> dict:
    return {"success": 200, "message": match.str("ok"), **extra, "result": result}


def error(status: int, code: str) -> dict:
    return {"success": status, "message": match.str("what to fix"), "error": code, "result": None}


def track_body(events: int) -> dict:
    event = {"name": match.str("Order Completed"), "time": match.int(1764000000), "plt": match.regex("i", regex="^[iaw]$"),
             "_id": match.regex("0123456789abcdef01234567", regex=OBJECT_ID),
             "parameters": match.like({"revenue": 9.5})}
    return {"user_id": match.regex("0123456789abcdef01234567", regex=OBJECT_ID),
            "events": match.each_like(event, min=events)}


def sample_events(count: int) -> list[dict]:
    return [{"name": "Order Completed", "time": 1764000000 + i, "plt": "i", "_id": f"{i:024x}", "parameters": {"revenue": 9.5}}
            for i in range(count)]


def client(url: str, key: str = ACME["key"], region: str = "us", base: str | None = None) -> OneFlowClient:
    return OneFlowClient(Settings(key, region, base or url), max_retries=0)


def expect_error(call, status: int, code: str) -> None:
    with pytest.raises(DeliveryError) as failure:
        call()
    assert (failure.value.status, failure.value.error) == (status, code)


def big_events() -> list[dict]:
    events = sample_events(40)
    for event in events:
        event["parameters"] = {"revenue": 9.5, "blob": "x" * 900}
    return events


ANON = "0123456789abcdef01234567"
USER_BODY = {"user_id": match.str("device-1")}
ADDED = envelope({"analytic_user_id": match.regex(ANON, regex=OBJECT_ID), "system_id": match.str("SYSTEM-ID")})

# (description, state, state params, method, region, path, request body, query, status, response body, headers, exercise)
INTERACTIONS = [
    ("add an anonymous user", "a project", ACME, "POST", "us", "/v3/user",
     {"user_id": match.str("device-1"), "context": match.like({"os": {"name": "iOS", "version": "17.1"}})}, None, 200, ADDED, {},
     lambda url: client(url).add_user("device-1", {"os": {"name": "iOS", "version": "17.1"}})),
    ("identify a user", "a project with a device", {**ACME, "device_id": "device-1"}, "POST", "us", "/v3/identify",
     {"anonymous_user_id": match.regex(ANON, regex=OBJECT_ID), "user_id": match.str("user-42"), "log_user": True,
      "parameters": match.like({"email": "a@example.com"})}, None, 200,
     envelope({"analytic_user_id": match.regex(ANON, regex=OBJECT_ID), "session_id": match.str("session")}), {},
     lambda url: client(url).identify(ANON, "user-42", {"email": "a@example.com"})),
    ("track one event", "a project", ACME, "POST", "us", "/v3/track", track_body(1), None, 200,
     envelope({"stored": match.int(1), "duplicates": match.int(0)}), {},
     lambda url: client(url).track(ANON, sample_events(1))),
    ("track a batch of events", "a project", ACME, "POST", "us", "/v3/track", track_body(5), None, 200,
     envelope({"stored": match.int(5), "duplicates": match.int(0)}), {},
     lambda url: client(url).track(ANON, sample_events(5))),
    ("list surveys", "a project", ACME, "GET", "us", "/v3/survey", None, {"platform": "web", "user_id": match.str(ANON)}, 200,
     envelope(match.each_like({"_id": match.str("survey"), "name": match.str("NPS"),
                               "screens": match.each_like({"_id": match.str("screen")})}),
              throttlingMobileSDKConfig=match.like({"isThrottlingActivated": False})), {},
     lambda url: client(url).surveys(ANON)),
    ("submit a survey response", "a project", ACME, "POST", "us", "/v3/response",
     {"analytic_user_id": match.str(ANON), "survey_id": match.str("survey"),
      "answers": match.each_like({"screen_id": match.str("screen"), "answer_value": match.str("4")})}, None, 200,
     envelope({"_id": match.str("response")}), {},
     lambda url: client(url).submit_response({"analytic_user_id": ANON, "survey_id": "survey",
                                              "answers": [{"screen_id": "screen", "answer_value": "4"}]})),
    ("add a user with an unknown key", "no project", {"key": "oneflow_prod_nobody"}, "POST", "us", "/v3/user",
     USER_BODY, None, 404, error(404, "unknown_key"), {},
     lambda url: expect_error(lambda: client(url, "oneflow_prod_nobody").add_user("device-1", {}), 404, "unknown_key")),
    ("add a user with a key outside its home region", "a project", GLOBEX, "POST", "us", "/v3/user",
     USER_BODY, None, 404, error(404, "key_region_mismatch"), {},
     lambda url: expect_error(lambda: client(url, GLOBEX["key"]).add_user("device-1", {}), 404, "key_region_mismatch")),
    ("add a user in a region not in the plan", "a project", ACME, "POST", "eu", "/v3/user",
     USER_BODY, None, 404, error(404, "region_not_in_plan"), {},
     lambda url: expect_error(lambda: client(url, region="eu").add_user("device-1", {}), 404, "region_not_in_plan")),
    ("add a user in an unknown region", "a project", ACME, "POST", "ap", "/v3/user",
     USER_BODY, None, 404, error(404, "unknown_region"), {},
     lambda url: expect_error(lambda: client(url, base=f"{url}/ap/api/2021-06-15").add_user("device-1", {}),
                              404, "unknown_region")),
    # Literal: the size of this body is the contract (Pact would replay a one-item example of a matcher).
    ("track a body over 32 KB", "a project", ACME, "POST", "us", "/v3/track",
     {"user_id": ANON, "events": big_events()}, None, 413,
     error(413, "payload_too_large"), {},
     lambda url: expect_error(lambda: client(url).track(ANON, big_events()), 413, "payload_too_large")),
    ("add a user while rate limited", "a rate-limited project", {**ACME, "path": "/v3/user", "retry_after": 1},
     "POST", "us", "/v3/user", USER_BODY, None, 429, error(429, "rate_limited"),
     {"Retry-After": match.regex("1", regex=r"^\d+$")},
     lambda url: expect_error(lambda: client(url).add_user("device-1", {}), 429, "rate_limited")),
]


def record(interaction: tuple, folder: Path) -> None:
    """One interaction on its own Pact mock server, merged into the contract file."""
    description, state, params, method, region, suffix, body, query, status, reply, headers, exercise = interaction
    pact = Pact(CONSUMER, PROVIDER).with_specification("V4")
    request = (pact.upon_receiving(description).given(state, **params)
               .with_request(method, path(region, suffix)).with_header("one_flow_key", params.get("key", ACME["key"])))
    if body is not None:
        request.with_body(body, content_type="application/json")
    for name, value in (query or {}).items():
        request.with_query_parameter(name, value)
    response = request.will_respond_with(status)
    for name, value in headers.items():
        response.with_header(name, value)
    response.with_body(reply, content_type="application/json")
    with pact.serve() as server:
        exercise(str(server.url).rstrip("/"))
    pact.write_file(folder, overwrite=False)


def normalised(path: Path) -> str:
    """The contract without what Pact changes per run (metadata: library versions)."""
    data = json.loads(path.read_text())
    data.pop("metadata", None)
    data["interactions"] = sorted(data["interactions"], key=lambda i: i["description"])
    return json.dumps(data, indent=2, sort_keys=True)


def test_consumer_contract_matches_the_committed_one(tmp_path):
    for interaction in INTERACTIONS:
        record(interaction, tmp_path)
    fresh = tmp_path / CONTRACT
    committed = CONTRACTS_DIR / CONTRACT
    if os.environ.get("MOCK_1FLOW_UPDATE_CONTRACTS") == "1" or not committed.exists():
        CONTRACTS_DIR.mkdir(exist_ok=True)
        committed.write_text(fresh.read_text())
    diff = "\n".join(difflib.unified_diff(normalised(committed).splitlines(), normalised(fresh).splitlines(),
                                         "contracts/" + CONTRACT, "what the destination now expects", lineterm=""))
    assert not diff, f"The destination's expectations changed; review and run MOCK_1FLOW_UPDATE_CONTRACTS=1 pytest tests/contract\n{diff}"
