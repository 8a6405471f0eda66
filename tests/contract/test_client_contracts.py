"""Pact consumer contracts of the real clients, generated from the corpus (``fixtures/clients``).

One contract per client (``1flow-ios-sdk``, ``1flow-android-sdk``, ``1flow-segment-ios``,
``1flow-segment-android``) with provider ``1flow-api``. Each interaction is recorded by
sending the corpus request, as the client encodes it, to Pact's mock server and decoding
the answer with the client's own response models (``fixtures/clients/models``), so the
expected response is what that client reads. Requests are literal (they are what the
client sends); responses use matchers wherever the value is the provider's.

Paths are in the mock's path form (``/us/api/2021-06-15/...``): a Pact verifier sends to
one base URL. The host form (``Host: api-sdk.1flow.app``) and the exact bytes are checked
by ``tests/clients/test_corpus_replay.py``. Requests that differ only by host (dev, beta)
are one interaction. Regenerate and review like the destination's contract:

    MOCK_1FLOW_UPDATE_CONTRACTS=1 PACT_DO_NOT_TRACK=true pytest tests/contract
    git diff contracts/
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
from pact import Pact, match

from mock_1flow.contracts.corpus import ClientRequest, Corpus, all_corpora
from mock_1flow.paths import CONTRACTS_DIR
from tests.clients.test_decode import operation_schema
from tests.contract.recording import check_committed

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

PROVIDER = "1flow-api"
STATE = ("a project", {"key": "oneflow_prod_acme", "region": "us", "plan": "free"})
OBJECT_ID = r"^[0-9a-f]{24}$"


def ok(result: Any = None, **extra: Any) -> dict[str, Any]:
    body = {"success": 200, "message": match.str("ok"), **extra}
    if result is not None:
        body["result"] = result
    return body


def user(**extra: Any) -> dict[str, Any]:
    return {"analytic_user_id": match.regex("65f1a2b3c4d5e6f708192a3b", regex=OBJECT_ID),
            "system_id": match.str("SYSTEM-ID"), "created_on": match.int(1764000000000),
            "updated_on": match.int(1764000000000), **extra}


SURVEY = {
    "_id": match.str("64b7c0de5f1e2a0012ab34cd"), "name": match.str("Checkout satisfaction"),
    "screens": match.each_like({"_id": match.str("64b7c0de5f1e2a0012ab1001")}),
    "survey_settings": {"trigger_filters": match.each_like({
        "type": "event", "field": match.str("Order Completed"), "_id": match.str("64b7c0de5f1e2a0012ab5000"),
        "timingOption": {"type": match.str("show_immediately"), "value": match.int(0)},
        "property_filters": {"operator": match.regex("AND", regex="^(AND|OR)$"), "filters": match.like([])}})},
}
CHANNEL = {"is_active": match.bool(True), "ios": match.bool(True), "android": match.bool(True)}
ANNOUNCEMENT = {"_id": match.str("64b7c0de5f1e2a0012ab4001"), "status": match.str("active"), "seen": match.bool(False),
                "inbox": CHANNEL, "in_app": CHANNEL}

# What each client reads of each operation's answer (see fixtures/clients/models, `uses`).
RESPONSES: dict[str, Any] = {
    "addUser": ok(user()),
    "identifyUser": ok(user(session_id=match.str("session"))),
    "trackEvents": ok(),
    "listSurveys": ok(match.each_like(SURVEY), throttlingMobileSDKConfig={
        "isThrottlingActivated": match.bool(False), "globalTime": match.int(0), "throttlingActivatedTime": match.int(0)}),
    "getSurvey": ok(SURVEY),
    "submitSurveyResponse": ok(),
    "listAnnouncements": ok({"announcements": {"inbox": match.each_like(ANNOUNCEMENT), "inApp": match.each_like(ANNOUNCEMENT)},
                             "theme": match.like({"brandColor": "#2D4EFF"})}),
    "getAnnouncementDetails": ok(match.each_like({
        "id": match.str("64b7c0de5f1e2a0012ab4001"), "title": match.str("Dark mode is here"), "publishedAt": match.int(1700000000000),
        "category": {"_id": match.str("64b7c0de5f1e2a0012ab4101"), "name": match.str("New"), "color": match.str("#2D4EFF")}})),
    "registerPushToken": ok(),
}


def distinct(corpus: Corpus) -> list[ClientRequest]:
    """The corpus requests, one per distinct path-form request (host variants are the same)."""
    seen, kept = set(), []
    for request in corpus.requests:
        key = (request.method, request.path, request.query, json.dumps(request.body, sort_keys=True))
        if key not in seen:
            seen.add(key)
            kept.append(request)
    return kept


def contract_name(corpus: Corpus) -> str:
    return f"{corpus.client}-{PROVIDER}.json"


def record(corpus: Corpus, request: ClientRequest, folder: Path) -> None:
    pact = Pact(corpus.client, PROVIDER).with_specification("V4")
    interaction = (pact.upon_receiving(f"{request.id}: {request.operation}")
                   .given(STATE[0], **STATE[1])
                   .with_request(request.method, request.path_form()))
    for name, value in request.headers.items():
        if name.lower() != "content-type":
            interaction.with_header(name, value)
    if request.body is not None:
        interaction.with_body(request.data().decode("utf-8"), content_type=request.headers["Content-Type"])
    for name, value in _query(request):
        interaction.with_query_parameter(name, value)
    interaction.will_respond_with(request.expect_status).with_body(RESPONSES[request.operation], content_type="application/json")
    with pact.serve() as server:
        reply = requests.request(request.method, f"{str(server.url).rstrip('/')}{request.path_form()}",
                                 params=request.query or None, data=request.data(), headers=request.headers, timeout=10)
        assert reply.status_code == request.expect_status, reply.text
        errors = list(jsonschema_rs.Draft202012Validator(operation_schema(corpus, request.operation)).iter_errors(reply.json()))
        assert not errors, f"{corpus.client} could not read the contract's answer: {errors[0].message}"
    pact.write_file(folder, overwrite=False)


def _query(request: ClientRequest) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(request.query, keep_blank_values=True)


@pytest.fixture(scope="module")
def fresh_contracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("client-contracts")
    for corpus in all_corpora():
        for request in distinct(corpus):
            try:
                record(corpus, request, folder)
            except Exception as exc:
                raise AssertionError(f"{corpus.client} interaction '{request.id}': {exc}") from exc
    return folder


@pytest.mark.parametrize("corpus", all_corpora(), ids=[c.client for c in all_corpora()])
def test_each_client_contract_has_every_distinct_corpus_request(fresh_contracts: Path, corpus: Corpus):
    data = json.loads((fresh_contracts / contract_name(corpus)).read_text())
    assert data["consumer"]["name"] == corpus.client and data["provider"]["name"] == PROVIDER
    described = sorted(i["description"] for i in data["interactions"])
    assert described == sorted(f"{r.id}: {r.operation}" for r in distinct(corpus))


@pytest.mark.parametrize("corpus", all_corpora(), ids=[c.client for c in all_corpora()])
def test_committed_client_contract_is_what_the_corpus_says(fresh_contracts: Path, corpus: Corpus):
    name = contract_name(corpus)
    check_committed(fresh_contracts / name, name, f"{corpus.client} (its corpus)", "tests/contract")


def test_a_client_contract_fails_against_a_mock_serving_what_the_client_cannot_read(tmp_path):
    """Verification catches a provider that drops a field the client needs (iOS: status)."""
    import shutil

    from mock_1flow.app import create_app
    from mock_1flow.contracts.verify import verify_contracts
    from mock_1flow.server.runtime import current_runtime
    from mock_1flow.testing import MockServer

    shutil.copy(CONTRACTS_DIR / "1flow-ios-sdk-1flow-api.json", tmp_path)
    app = create_app()
    with app.app_context():
        for item in current_runtime().announcements["announcements"]["inbox"]:
            del item["status"]
    with MockServer(app) as mock:
        result = verify_contracts(mock.url, tmp_path, mock.url + "/__admin/provider-states")
    failed = [i.description for i in result.interactions if not i.ok]
    assert failed == ["ios-list-announcements: listAnnouncements"], result.summary()
