"""Pact consumer contract of a server-side forwarder on 1Flow's public HTTP API: consumer
``1flow-http-forwarder`` (the destination's :class:`HttpApiClient`), provider ``1flow-http-api``.

Each interaction drives the real client against its own Pact mock server; the fresh contract
is compared with the committed ``contracts/1flow-http-forwarder-1flow-http-api.json`` (accept a
change with ``MOCK_1FLOW_UPDATE_CONTRACTS=1 pytest tests/http_api``, then review the diff).
Provider verification against the mock runs with every committed contract
(``tests/contract/test_provider.py``, ``mock-1flow contracts verify``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pact import match

from mock_1flow.destination.errors import DeliveryError
from mock_1flow.destination.http_api import HttpApiClient, track_body
from mock_1flow.destination.settings import Settings
from tests.contract.recording import Interaction, check_committed, record_all, record_interaction

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

CONSUMER, PROVIDER = "1flow-http-forwarder", "1flow-http-api"
CONTRACT = f"{CONSUMER}-{PROVIDER}.json"
ACME = {"key": "oneflow_prod_acme", "region": "us", "plan": "free"}
NOBODY = "oneflow_prod_nobody"
ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
OBJECT_ID = r"^[0-9a-f]{24}$"


def sdk_event(index: int, blob: int = 0) -> dict[str, Any]:
    """An event as the destination queues it (``wire.track_event``'s shape)."""
    return {"name": "Order Completed", "time": 1664508384 + index, "plt": "w", "_id": f"{index:024x}",
            "parameters": {"revenue": 9.5, **({"blob": "x" * blob} if blob else {})}}


def client(url: str, key: str = ACME["key"], **options: Any) -> HttpApiClient:
    return HttpApiClient(Settings(key, "us", url, api="http"), **{"max_retries": 0, **options})


def refused(call: Callable[[], Any], status: int) -> DeliveryError:
    with pytest.raises(DeliveryError) as failure:
        call()
    assert failure.value.status == status, failure.value
    return failure.value


def ok(result: Any = None) -> dict[str, Any]:
    return {"success": 200, "message": match.str("ok"), **({"result": result} if result is not None else {})}


def error(status: int, code: Any) -> dict[str, Any]:
    return {"success": status, "message": match.str("what to fix"), "error": code, "result": None}


def track_item() -> dict[str, Any]:
    return {"user_id": match.str("user-42"), "event": match.str("Order Completed"),
            "properties": match.like({"revenue": 9.5}), "timestamp": match.regex("2022-09-30T03:26:24Z", regex=ISO),
            "message_id": match.regex("0" * 24, regex=OBJECT_ID)}


# What each interaction does with the client; ``url`` is the Pact mock server's root.

def identify(url: str) -> None:
    assert client(url).identify("anon-1", "user-42", {"email": "a@example.com"}) == "user-42"


def track_one(url: str) -> None:
    client(url).track("user-42", [sdk_event(0)])


def batch(url: str) -> None:
    client(url).track("user-42", [sdk_event(i) for i in range(5)])


def unknown_key(url: str) -> None:
    failure = refused(lambda: client(url, NOBODY, max_retries=3).track("user-42", [sdk_event(0)]), 401)
    assert failure.attempts == 1  # a 401 is never retried


def too_large(url: str) -> None:
    failure = refused(lambda: client(url, max_retries=3).post("/track", track_body("user-42", sdk_event(0, blob=33_000))), 413)
    assert (failure.error, failure.attempts) == ("payload_too_large", 1)


def rate_limited(url: str) -> None:
    waits: list[float] = []
    failure = refused(lambda: client(url, max_retries=1, sleep=waits.append).track("user-42", [sdk_event(0)]), 429)
    assert waits == [1.0] and failure.attempts == 2  # waited what Retry-After said, then retried


INTERACTIONS = [
    Interaction("identify a user over the HTTP API", "a project", ACME, "POST", "/us/v1/identify",
                {"user_id": match.str("user-42"), "traits": match.like({"email": "a@example.com"})}, 200,
                ok(match.like({"user_id": "user-42"})), identify),
    Interaction("track one event over the HTTP API", "a project", ACME, "POST", "/us/v1/track", track_item(), 200,
                ok(match.like({"stored": 1})), track_one),
    Interaction("send a batch of events over the HTTP API", "a project", ACME, "POST", "/us/v1/batch",
                {"batch": match.each_like({"type": "track", **track_item()}, min=5)}, 200,
                ok(match.like({"stored": 5})), batch),
    # The page documents 401; the error code may be either profile's.
    Interaction("track with an unknown api_key", "no project", {"key": NOBODY}, "POST", "/us/v1/track", track_item(), 401,
                error(401, match.regex("unknown_key", regex="^(unknown_key|invalid_key)$")), unknown_key),
    # Literal body: its size is the contract (a matcher would be replayed as a small example).
    Interaction("track a body over 32 KB over the HTTP API", "a project", ACME, "POST", "/us/v1/track",
                track_body("user-42", sdk_event(0, blob=33_000)), 413, error(413, "payload_too_large"), too_large),
    Interaction("track while rate limited over the HTTP API", "a rate-limited project",
                {**ACME, "path": "/v1/track", "retry_after": 1}, "POST", "/us/v1/track", track_item(), 429,
                error(429, "rate_limited"), rate_limited, response_headers={"Retry-After": match.regex("1", regex=r"^\d+$")}),
]


def record(interaction: Interaction, folder: Path) -> None:
    record_interaction(interaction, folder, CONSUMER, PROVIDER, "api_key")


@pytest.fixture(scope="module")
def fresh_contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_all(INTERACTIONS, record, tmp_path_factory.mktemp("http-api-contracts"), CONTRACT)


def test_every_interaction_is_exercised_through_the_http_api_client(fresh_contract: Path) -> None:
    data = json.loads(fresh_contract.read_text())
    assert (data["consumer"]["name"], data["provider"]["name"]) == (CONSUMER, PROVIDER)
    assert sorted(i["description"] for i in data["interactions"]) == sorted(i.description for i in INTERACTIONS)
    assert {i["response"]["status"] for i in data["interactions"]} == {200, 401, 413, 429}
    assert all(i["request"]["headers"]["api_key"] for i in data["interactions"])


def test_the_over_32_kb_body_is_over_32_kb(fresh_contract: Path) -> None:
    large = next(i for i in json.loads(fresh_contract.read_text())["interactions"] if "32 KB" in i["description"])
    body = large["request"]["body"]["content"]
    assert len(json.dumps(body, separators=(",", ":")).encode()) > 32 * 1024


def test_committed_contract_is_what_the_forwarder_expects(fresh_contract: Path) -> None:
    check_committed(fresh_contract, CONTRACT, "the HTTP API forwarder", "tests/http_api")
