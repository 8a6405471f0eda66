"""Pact consumer contracts: what the destination's client expects of the 1Flow API.

Each interaction drives the real client (``OneFlowClient``, not hand-written HTTP) against
its own Pact mock server; the contract is written to a temporary folder and compared with
the committed ``contracts/`` file, so a change of expectations shows as a diff in review.
To accept a change (then review ``git diff contracts/``):

    MOCK_1FLOW_UPDATE_CONTRACTS=1 pytest tests/contract

Matchers wherever a value varies (ids, times, names, messages); literals where the value
is the contract (statuses, ``error`` codes, header names, the key a state sets up).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pact import Pact, generate, match
from pact.match.matcher import GenericMatcher

from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.errors import DeliveryError
from mock_1flow.destination.settings import Settings
from tests.contract.recording import Interaction, check_committed, record_all, record_interaction

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

CONSUMER, PROVIDER = "segment-1flow-destination", "1flow-api"
CONTRACT = f"{CONSUMER}-{PROVIDER}.json"

ACME = {"key": "oneflow_prod_acme", "region": "us", "plan": "free"}  # us only
GLOBEX = {"key": "oneflow_prod_globex", "region": "eu", "plan": "enterprise"}  # us + eu, home eu
NOBODY = "oneflow_prod_nobody"
OBJECT_ID = r"^[0-9a-f]{24}$"
ANON = "0123456789abcdef01234567"  # an analytic user id, as examples
DEVICE = "device-1"
CONTEXT = {"os": {"name": "iOS", "version": "17.1"}}


def api(region: str, suffix: str) -> str:
    return f"/{region}/api/2021-06-15{suffix}"


def object_id(example: str = ANON) -> Any:
    return match.regex(example, regex=OBJECT_ID)


def from_state(name: str, example: str = ANON, regex: str = OBJECT_ID) -> Any:
    """An id only the provider knows (it generated it): the verifier sends the value the
    state change answered as ``name`` (provider-state injection, ``${name}``); the consumer
    test uses ``example``. (``match.regex`` takes no generator, hence ``GenericMatcher``.)"""
    return GenericMatcher("regex", example, regex=regex, generator=generate.provider_state(f"${{{name}}}"))


def envelope(result: Any, **extra: Any) -> dict[str, Any]:
    return {"success": 200, "message": match.str("ok"), **extra, "result": result}


def error(status: int, code: str) -> dict[str, Any]:
    return {"success": status, "message": match.str("what to fix"), "error": code, "result": None}


def sample_events(count: int, blob: int = 0) -> list[dict[str, Any]]:
    return [{"name": "Order Completed", "time": 1764000000 + i, "plt": "i", "_id": f"{i:024x}",
             "parameters": {"revenue": 9.5, **({"blob": "x" * blob} if blob else {})}} for i in range(count)]


def track_body(events: int) -> dict[str, Any]:
    event = {"name": match.str("Order Completed"), "time": match.int(1764000000), "plt": match.regex("i", regex="^[iaw]$"),
             "_id": object_id(), "parameters": match.like({"revenue": 9.5})}
    return {"user_id": object_id(), "events": match.each_like(event, min=events)}


def client(url: str, key: str = ACME["key"], region: str = "us", **options: Any) -> OneFlowClient:
    return OneFlowClient(Settings(key, region, url), **{"max_retries": 0, **options})


def refused(call: Callable[[], Any], status: int, code: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as failure:
        call()
    assert (failure.value.status, failure.value.error) == (status, code), failure.value
    return failure.value


# What each interaction does with the client; ``url`` is the Pact mock server's root.

def add_user(url: str) -> None:
    assert client(url).add_user(DEVICE, CONTEXT) == ANON


def identify(url: str) -> None:
    assert client(url).identify(ANON, "user-42", {"email": "a@example.com"}) == ANON


def track_one(url: str) -> None:
    client(url).track(ANON, sample_events(1))


def track_batch(url: str) -> None:
    client(url).track(ANON, sample_events(5))


def list_surveys(url: str) -> None:
    surveys = client(url).surveys(ANON)
    assert surveys and surveys[0]["screens"]


def submit_response(url: str) -> None:
    client(url).submit_response({"analytic_user_id": ANON, "survey_id": "survey",
                                 "answers": [{"screen_id": "screen", "answer_value": "4"}]})


def unknown_key(url: str) -> None:
    refused(lambda: client(url, NOBODY).add_user(DEVICE, {}), 404, "unknown_key")


def outside_home_region(url: str) -> None:
    refused(lambda: client(url, GLOBEX["key"], "us").add_user(DEVICE, {}), 404, "key_region_mismatch")


def region_not_in_plan(url: str) -> None:
    refused(lambda: client(url, region="eu").add_user(DEVICE, {}), 404, "region_not_in_plan")


def unknown_region(url: str) -> None:
    # Settings accepts only known regions; a base URL is how a wrong region reaches 1Flow.
    refused(lambda: client(url + api("ap", "")).add_user(DEVICE, {}), 404, "unknown_region")


def too_large(url: str) -> None:
    failure = refused(lambda: client(url, max_retries=3).track(ANON, sample_events(40, blob=900)), 413, "payload_too_large")
    assert failure.attempts == 1  # a 4xx is never retried


def rate_limited(url: str) -> None:
    waits: list[float] = []
    failure = refused(lambda: client(url, max_retries=1, sleep=waits.append).add_user(DEVICE, {}), 429, "rate_limited")
    assert waits == [1.0] and failure.attempts == 2  # waited what Retry-After said, then retried


USER = {"user_id": match.str(DEVICE)}
INTERACTIONS = [
    Interaction("add an anonymous user", "a project", ACME, "POST", api("us", "/v3/user"),
                {"user_id": match.str(DEVICE), "context": match.like(CONTEXT)}, 200,
                envelope({"analytic_user_id": object_id(), "system_id": match.str("SYSTEM-ID")}), add_user),
    Interaction("identify a user", "a project with a device", {**ACME, "device_id": DEVICE}, "POST", api("us", "/v3/identify"),
                {"anonymous_user_id": from_state("analytic_user_id"), "user_id": match.str("user-42"),
                 "log_user": True, "parameters": match.like({"email": "a@example.com"})}, 200,
                envelope({"analytic_user_id": object_id(), "session_id": match.str("session")}), identify),
    Interaction("track one event", "a project", ACME, "POST", api("us", "/v3/track"), track_body(1), 200,
                envelope({"stored": match.int(1), "duplicates": match.int(0)}), track_one),
    Interaction("track a batch of events", "a project", ACME, "POST", api("us", "/v3/track"), track_body(5), 200,
                envelope({"stored": match.int(5), "duplicates": match.int(0)}), track_batch),
    Interaction("list surveys", "a project", ACME, "GET", api("us", "/v3/survey"), None, 200,
                envelope(match.each_like({"_id": match.str("survey"), "name": match.str("NPS"),
                                          "screens": match.each_like({"_id": match.str("screen")})}),
                         throttlingMobileSDKConfig=match.like({"isThrottlingActivated": False})),
                list_surveys, query={"platform": "web", "user_id": match.str(ANON)}),
    Interaction("submit a survey response", "a project", ACME, "POST", api("us", "/v3/response"),
                {"analytic_user_id": match.str(ANON), "survey_id": match.str("survey"),
                 "answers": match.each_like({"screen_id": match.str("screen"), "answer_value": match.str("4")})}, 200,
                envelope({"_id": match.str("response")}), submit_response),
    Interaction("add a user with an unknown key", "no project", {"key": NOBODY}, "POST", api("us", "/v3/user"),
                USER, 404, error(404, "unknown_key"), unknown_key),
    Interaction("add a user with a key outside its home region", "a project", GLOBEX, "POST", api("us", "/v3/user"),
                USER, 404, error(404, "key_region_mismatch"), outside_home_region),
    Interaction("add a user in a region not in the plan", "a project", ACME, "POST", api("eu", "/v3/user"),
                USER, 404, error(404, "region_not_in_plan"), region_not_in_plan),
    Interaction("add a user in an unknown region", "a project", ACME, "POST", api("ap", "/v3/user"),
                USER, 404, error(404, "unknown_region"), unknown_region),
    # Literal body: its size is the contract (a matcher would be replayed as a one-item example).
    Interaction("track a body over 32 KB", "a project with a body limit", {**ACME, "max_body_bytes": 32768}, "POST", api("us", "/v3/track"),
                {"user_id": ANON, "events": sample_events(40, blob=900)}, 413, error(413, "payload_too_large"), too_large),
    Interaction("add a user while rate limited", "a rate-limited project",
                {**ACME, "path": "/v3/user", "retry_after": 1}, "POST", api("us", "/v3/user"),
                USER, 429, error(429, "rate_limited"), rate_limited,
                response_headers={"Retry-After": match.regex("1", regex=r"^\d+$")}),
]


def record(interaction: Interaction, folder: Path) -> None:
    record_interaction(interaction, folder, CONSUMER, PROVIDER, "one_flow_key")


@pytest.fixture(scope="module")
def fresh_contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_all(INTERACTIONS, record, tmp_path_factory.mktemp("contracts"), CONTRACT)


def test_every_interaction_is_exercised_through_the_client(fresh_contract: Path) -> None:
    """Recording fails on a missing or mismatched request, so each interaction in the file
    is one the client really made; each names the key its provider state sets up."""
    data = json.loads(fresh_contract.read_text())
    assert sorted(i["description"] for i in data["interactions"]) == sorted(i.description for i in INTERACTIONS)
    assert all(i["providerStates"][0]["params"]["key"] for i in data["interactions"])


def test_identify_takes_the_analytic_id_from_the_provider_state(fresh_contract: Path) -> None:
    identify = next(i for i in json.loads(fresh_contract.read_text())["interactions"] if i["description"] == "identify a user")
    assert identify["request"]["generators"]["body"]["$.anonymous_user_id"] == {
        "type": "ProviderState", "expression": "${analytic_user_id}"}


def test_committed_contract_is_what_the_destination_expects(fresh_contract: Path) -> None:
    check_committed(fresh_contract, CONTRACT, "the destination", "tests/contract")
