"""Every response the mock serves decodes with each real client's models
(``fixtures/clients/models``: Swift Codable for iOS, Gson for Android, transcribed with
citations), and carries what the SDK then reads; fixture surveys and announcements are
shown for a named event the way the SDKs match triggers."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from mock_1flow.contracts.corpus import ClientRequest, Corpus, all_corpora, load_models

from .conftest import send

CORPORA = all_corpora()
CASES = [(corpus, request) for corpus in CORPORA for request in corpus.requests]


def operation_schema(corpus: Corpus, operation: str) -> Any:
    models = load_models(corpus)
    spec = models["operations"][operation]
    model = {"$ref": f"#/$defs/{spec['model']}"} if isinstance(spec["model"], str) else spec["model"]
    return {"$defs": models["$defs"], "allOf": [model, spec.get("uses", {})]}


def decode_errors(corpus: Corpus, operation: str, body: Any) -> list[str]:
    validator = jsonschema_rs.Draft202012Validator(operation_schema(corpus, operation))
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(body)]


def test_each_client_has_a_model_for_every_operation_it_calls():
    for corpus in CORPORA:
        operations = load_models(corpus)["operations"]
        assert {r.operation for r in corpus.requests} <= set(operations), corpus.client
        assert all(spec["x-source"] for spec in operations.values())


@pytest.mark.parametrize("corpus, request_", CASES, ids=[f"{c.client}:{r.id}" for c, r in CASES])
def test_every_response_decodes_with_the_clients_models(client, corpus: Corpus, request_: ClientRequest):
    reply = send(client, request_)
    assert reply.status_code == 200
    assert decode_errors(corpus, request_.operation, reply.get_json()) == []


@pytest.mark.parametrize("corpus", CORPORA, ids=[c.client for c in CORPORA])
def test_the_models_refuse_what_would_break_the_client(corpus: Corpus):
    """The schemas can fail: the shapes the mock served before issue 8 do not decode."""
    old_announcements = {"success": 200, "message": "ok", "result": {"announcements": {
        "inbox": [{"identifier": "a", "seen": False, "trigger": None}], "inApp": []}, "theme": {}}}
    assert decode_errors(corpus, "listAnnouncements", old_announcements)
    bad_user = {"success": 200, "message": "ok", "result": {"analytic_user_id": {"id": 1}}}
    assert decode_errors(corpus, "addUser", bad_user)


def test_ios_needs_the_category_id_of_an_announcement():
    ios = next(c for c in CORPORA if c.client == "1flow-ios-sdk")
    details = {"success": 200, "message": "ok", "result": [
        {"id": "a", "title": "t", "publishedAt": 1, "content": "c", "category": {"name": "New", "color": "#fff"}}]}
    assert decode_errors(ios, "getAnnouncementDetails", details)
    details["result"][0]["category"]["_id"] = "c1"
    assert decode_errors(ios, "getAnnouncementDetails", details) == []


def _filters_match(filters: dict[str, Any] | None, parameters: dict[str, Any]) -> bool:
    """The filter script's filterRules for the empty rule set: AND of nothing is true."""
    rules = (filters or {}).get("filters") or []
    return not rules and (filters or {}).get("operator", "AND") != "OR"


def surveys_for_event(surveys: list[dict[str, Any]], name: str) -> list[str]:
    """What the SDKs' filter script (triggerEventFilter, validator-dev.js) selects for an event:
    a trigger filter with type "event" and field == the event name whose property filters pass."""
    return [s["_id"] for s in surveys
            if any(f["type"] == "event" and f["field"] == name and _filters_match(f.get("property_filters"), {})
                   for f in (s.get("survey_settings") or {}).get("trigger_filters") or [])]


@pytest.mark.parametrize("client_id", ["ios-list-surveys", "android-list-surveys"])
def test_a_fixture_survey_is_shown_for_a_named_event(client, client_id):
    request = next(r for c in CORPORA for r in c.requests if r.id == client_id)
    surveys = send(client, request).get_json()["result"]
    assert surveys_for_event(surveys, "Order Completed") == ["64b7c0de5f1e2a0012ab34cd"]
    assert surveys_for_event(surveys, "screen_Home") == ["64b7c0de5f1e2a0012ab35ef"]
    assert surveys_for_event(surveys, "nothing here") == []


def test_an_in_app_announcement_is_triggered_by_a_named_event(client):
    request = next(r for c in CORPORA for r in c.requests if r.id == "android-list-announcements")
    result = send(client, request).get_json()["result"]
    in_app = result["announcements"]["inApp"]
    triggered = [a["_id"] for a in in_app if a["status"] == "active" and a["in_app"]["is_active"] and any(
        f["type"] == "event" and f["field"] == "Order Completed" for f in a["in_app"]["timing"]["rule"]["filters"])]
    assert triggered == ["64b7c0de5f1e2a0012ab4003"]
    assert all(a["status"] == "active" for a in result["announcements"]["inbox"])


def test_throttling_config_has_the_keys_both_sdks_read(client):
    request = next(r for c in CORPORA for r in c.requests if r.id == "ios-list-surveys")
    config = send(client, request).get_json()["throttlingMobileSDKConfig"]
    assert set(config) == {"isThrottlingActivated", "globalTime", "activatedBySurveyID", "throttlingActivatedTime"}
