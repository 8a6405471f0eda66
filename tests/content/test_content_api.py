"""Per-project surveys and announcements over a real socket: each project serves its own on
``/v3/survey``, ``/v3/survey/{id}``, ``/v3/announcements`` and its inbox, others keep the
fixtures; a PUT a real SDK could not decode is refused naming client, model and field."""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest
import requests

from mock_1flow import content
from mock_1flow.contracts.corpus import all_corpora
from mock_1flow.testing import MockError, MockServer

from ..clients.test_decode import decode_errors, surveys_for_event
from ..conftest import EU_KEY, US_ENTERPRISE_KEY, US_KEY
from .conftest import API, result, sdk_get

FIXTURE_SURVEYS = ["64b7c0de5f1e2a0012ab34cd", "64b7c0de5f1e2a0012ab35ef"]


def test_a_project_serves_its_own_surveys_and_the_others_keep_the_fixtures(mock: MockServer):
    checkout = content.survey("Order Completed", question="How was checkout?", platforms=["iOS"])
    mock.set_surveys(US_KEY, [checkout], content.throttling(active=True, global_seconds=3600))

    mine = result(mock, US_KEY, "/v3/survey")
    assert [s["_id"] for s in mine["result"]] == [checkout["_id"]]
    assert mine["throttlingMobileSDKConfig"] == {"isThrottlingActivated": True, "globalTime": 3600,
                                                 "activatedBySurveyID": None, "throttlingActivatedTime": 0}
    assert result(mock, US_KEY, "/v3/survey", platform="android")["result"] == []  # the platform filter applies
    assert result(mock, US_KEY, f"/v3/survey/{checkout['_id']}")["result"] == checkout
    missing = sdk_get(mock, US_KEY, f"/v3/survey/{FIXTURE_SURVEYS[0]}")
    assert (missing.status_code, missing.json()["error"]) == (404, "unknown_survey")

    for key, region in ((EU_KEY, "eu"), (US_ENTERPRISE_KEY, "us")):
        assert [s["_id"] for s in result(mock, key, "/v3/survey", region)["result"]] == FIXTURE_SURVEYS
    assert mock.surveys(US_KEY)["surveys"] == [checkout]
    assert [s["_id"] for s in mock.surveys(EU_KEY)["surveys"]] == FIXTURE_SURVEYS


def test_a_project_serves_its_own_announcements_theme_and_inbox_details(mock: MockServer):
    news = content.announcement("Dark mode", content="<p>Settings</p>", category="New", action=("Try", "app://dark"))
    sale = content.announcement("Sale", event="Order Completed", style="modal")
    theme = {**content.DEFAULT_THEME, "brandColor": "#FF0000"}
    mock.set_announcements(US_KEY, [news, sale], theme=theme)

    listed = result(mock, US_KEY, "/v3/announcements")["result"]
    assert [a["_id"] for a in listed["announcements"]["inbox"]] == [news.summary["_id"]]
    assert [a["_id"] for a in listed["announcements"]["inApp"]] == [sale.summary["_id"]]
    assert listed["announcements"]["inApp"][0]["in_app"]["timing"]["rule"]["filters"][0]["field"] == "Order Completed"
    assert listed["theme"]["brandColor"] == "#FF0000"
    details = result(mock, US_KEY, "/v3/announcements/inbox", ids=f"{news.detail['id']},64b7c0de5f1e2a0012ab4001")
    assert details["result"] == [news.detail]  # the fixture's id is not this project's

    fixture = result(mock, EU_KEY, "/v3/announcements", "eu")["result"]
    assert [a["_id"] for a in fixture["announcements"]["inbox"]] == ["64b7c0de5f1e2a0012ab4001", "64b7c0de5f1e2a0012ab4002"]
    assert [d["id"] for d in result(mock, EU_KEY, "/v3/announcements/inbox", "eu", ids="64b7c0de5f1e2a0012ab4001")["result"]] == [
        "64b7c0de5f1e2a0012ab4001"]


def test_announcements_given_as_lists_with_their_details(mock: MockServer):
    news = content.announcement("Plain")
    mock.set_announcements(US_KEY, {"inbox": [news.summary], "inApp": []}, details=[news.detail])
    assert mock.announcements(US_KEY) == {"announcements": {"inbox": [news.summary], "inApp": []},
                                          "theme": content.DEFAULT_THEME, "details": [news.detail]}


@pytest.mark.parametrize("corpus", all_corpora(), ids=lambda c: c.client)
def test_built_content_reaches_each_real_client_and_decodes_with_its_models(mock: MockServer, corpus):
    """The corpus requests, as each client sends them (host form, its headers and query),
    get the project's content, and each answer decodes with that client's models."""
    survey = content.survey("Order Completed", question="How was checkout?")
    mock.set_surveys(US_KEY, [survey])
    mock.set_announcements(US_KEY, [content.announcement("Hi", category="New"), content.announcement("Sale", event="Order Completed")])
    for request in corpus.requests:
        if request.operation not in ("listSurveys", "getSurvey", "listAnnouncements", "getAnnouncementDetails"):
            continue
        path = request.path.replace("64b7c0de5f1e2a0012ab34cd", survey["_id"])
        reply = requests.request(request.method, f"{mock.url}{path}?{request.query}", timeout=10,
                                 headers={**request.headers, "Host": request.host})
        assert reply.status_code == 200, (request.id, reply.text)
        assert decode_errors(corpus, request.operation, reply.json()) == [], request.id
        if request.operation == "listSurveys":
            assert surveys_for_event(reply.json()["result"], "Order Completed") == [survey["_id"]]
            assert surveys_for_event(reply.json()["result"], "Signed Up") == []


def _drop_button_title(doc: dict[str, Any]) -> None:
    del doc["surveys"][0]["screens"][0]["buttons"][0]["title"]


def _fractional_min(doc: dict[str, Any]) -> None:
    doc["surveys"][0]["screens"][0]["input"]["min_val"] = 1.5


def _capping_as_text(doc: dict[str, Any]) -> None:
    doc["surveys"][0]["survey_settings"]["frequency_capping"] = "daily"  # Gson wants an object; iOS ignores it


def _string_time(doc: dict[str, Any]) -> None:
    doc["throttlingMobileSDKConfig"]["globalTime"] = "60"


@pytest.mark.parametrize("change, clients, model, pointer", [
    (_drop_button_title, ["1flow-ios-sdk"], "Button", "/surveys/0/screens/0/buttons/0/title"),
    (_fractional_min, ["1flow-android-sdk", "1flow-ios-sdk"], "SurveyInput", "/surveys/0/screens/0/input/min_val"),
    (_capping_as_text, ["1flow-android-sdk"], "SurveySettings", "/surveys/0/survey_settings/frequency_capping"),
])
def test_surveys_a_real_sdk_cannot_decode_are_refused_naming_client_model_field(mock: MockServer, change: Callable,
                                                                                   clients: list[str], model: str, pointer: str):
    good = content.surveys_document([content.survey("Order Completed")])
    mock.set_surveys(US_KEY, good["surveys"])
    bad = copy.deepcopy(good)
    change(bad)
    reply = requests.put(f"{mock.url}/__admin/projects/{US_KEY}/surveys", json=bad, timeout=10)
    body = reply.json()
    assert (reply.status_code, body["error"], body["client"], body["model"], body["pointer"]) == (
        400, "client_cannot_decode", clients[0], model, pointer)
    assert [e["client"] for e in body["errors"]] == clients
    assert f"{pointer}: the {clients[0]} SDK cannot decode it (model {model})" in body["message"]
    assert mock.surveys(US_KEY) == good  # nothing changed
    assert result(mock, US_KEY, "/v3/survey")["result"] == good["surveys"]


@pytest.mark.parametrize("change, where", [
    (_string_time, "/throttlingMobileSDKConfig/globalTime"),
    (lambda doc: doc.update(survey=[]), "(root): Additional properties are not allowed ('survey' was unexpected)"),
    (lambda doc: doc["surveys"][0].pop("screens"), '/surveys/0/screens: "screens" is a required property'),
])
def test_surveys_that_break_the_spec_are_refused_with_the_pointer(mock: MockServer, change: Callable, where: str):
    bad = content.surveys_document([content.survey("Order Completed")])
    change(bad)
    with pytest.raises(MockError) as refused:
        mock.admin(f"projects/{US_KEY}/surveys", "PUT", json=bad)
    assert (refused.value.status, refused.value.code) == (400, "invalid_request")
    assert where in refused.value.message
    assert [s["_id"] for s in mock.surveys(US_KEY)["surveys"]] == FIXTURE_SURVEYS


def test_announcements_a_real_sdk_cannot_decode_are_refused(mock: MockServer):
    news = content.announcement("Hi", action=("Go", "https://example.com"))
    body = content.announcements_document([news])
    del body["details"][0]["action"]["name"]  # iOS Action.name is not optional
    reply = requests.put(f"{mock.url}/__admin/projects/{US_KEY}/announcements", json=body, timeout=10).json()
    assert (reply["error"], reply["client"], reply["model"], reply["pointer"]) == (
        "client_cannot_decode", "1flow-ios-sdk", "Action", "/details/0/action/name")
    spec_bad = content.announcements_document([news])
    spec_bad["details"][0]["category"] = {"name": "New", "color": "#fff"}  # no _id
    reply = requests.put(f"{mock.url}/__admin/projects/{US_KEY}/announcements", json=spec_bad, timeout=10).json()
    assert (reply["error"], reply["pointer"]) == ("invalid_request", "/details/0/category/_id")
    assert [d["id"] for d in mock.announcements(US_KEY)["details"]] == [
        "64b7c0de5f1e2a0012ab4001", "64b7c0de5f1e2a0012ab4002", "64b7c0de5f1e2a0012ab4003"]


@pytest.mark.parametrize("method, path", [
    ("GET", "surveys"), ("PUT", "surveys"), ("GET", "announcements"), ("PUT", "announcements"), ("POST", "reset")])
def test_an_unknown_project_is_404(mock: MockServer, method: str, path: str):
    body = content.surveys_document([]) if path == "surveys" else content.announcements_document([])
    reply = requests.request(method, f"{mock.url}/__admin/projects/oneflow_nobody/{path}", json=body, timeout=10)
    assert (reply.status_code, reply.json()["error"]) == (404, "unknown_project")


def test_a_test_created_project_gets_defaults_its_own_content_and_is_gone_when_deleted(mock: MockServer):
    key = "oneflow_test_fresh_7f3a"
    mock.add_project(key, region="eu", plan="enterprise")
    assert [s["_id"] for s in result(mock, key, "/v3/survey", "eu")["result"]] == FIXTURE_SURVEYS
    survey = content.survey("Order Completed")
    mock.set_surveys(key, [survey])
    assert result(mock, key, "/v3/survey", "eu")["result"] == [survey]
    gone = sdk_get(mock, key, "/v3/survey", "us")  # its home region is eu
    assert gone.status_code == 404
    mock.admin(f"projects/{key}", "DELETE")
    assert sdk_get(mock, key, "/v3/survey", "eu").json()["error"] == "unknown_key"
    with pytest.raises(MockError):
        mock.surveys(key)
    mock.add_project(key, region="us", plan="free")  # the same key again starts from the defaults
    assert [s["_id"] for s in result(mock, key, "/v3/survey")["result"]] == FIXTURE_SURVEYS


def test_reset_brings_back_the_default_content_changed_in_place(mock: MockServer):
    """The old workaround (changing ``runtime.surveys``) no longer leaks into the next test."""
    mock.runtime.surveys["surveys"].clear()
    mock.runtime.announcements["details"].clear()
    assert result(mock, US_KEY, "/v3/survey")["result"] == []
    mock.reset()
    assert [s["_id"] for s in result(mock, US_KEY, "/v3/survey")["result"]] == FIXTURE_SURVEYS
    assert len(mock.announcements(US_KEY)["details"]) == 3
