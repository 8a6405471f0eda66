"""Replay every request of the real-client corpus (``fixtures/clients``) against the mock, in
host form and path form: each gets the answer the SDK expects (2xx with ``success: 200``)."""

from __future__ import annotations

import json

import pytest

from mock_1flow.contracts.corpus import all_corpora, encode_body

from .conftest import send

REQUESTS = [request for corpus in all_corpora() for request in corpus.requests]
IDS = [request.id for request in REQUESTS]


def test_the_corpus_covers_every_client_and_cites_each_request():
    assert {corpus.client for corpus in all_corpora()} == {
        "1flow-ios-sdk", "1flow-android-sdk", "1flow-segment-ios", "1flow-segment-android"}
    assert len(set(IDS)) == len(IDS)
    for request in REQUESTS:
        assert request.sources and all(s["repository"] and s["file"] and s["function"] for s in request.sources), request.id


def test_the_sdk_corpora_cover_every_sdk_operation():
    """The nine SDK endpoints, each sent by both SDKs as their sources build them."""
    operations = {"addUser", "identifyUser", "trackEvents", "listSurveys", "getSurvey", "submitSurveyResponse",
                  "listAnnouncements", "getAnnouncementDetails", "registerPushToken"}
    for corpus in all_corpora():
        if corpus.sdk == corpus.client:
            assert {r.operation for r in corpus.requests} == operations, corpus.client


@pytest.mark.parametrize("form", ["host", "path"])
@pytest.mark.parametrize("request_", REQUESTS, ids=IDS)
def test_each_client_request_gets_the_answer_the_sdk_expects(client, request_, form):
    reply = send(client, request_, form)
    assert reply.status_code == request_.expect_status, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["success"] == request_.expect_status  # iOS reads success == 200, Android HTTP 2xx
    entry = client.get("/__admin/requests?limit=1").get_json()["requests"][0]
    assert entry["region"] == "us" and entry["status"] == request_.expect_status
    if request_.body is not None:
        assert entry["body"] == request_.body  # the mock read exactly what the client sent


@pytest.mark.parametrize("host", ["api-sdk.1flow.app", "dev-sdk.1flow.app", "beta-sdk.1flow.app"])
def test_every_host_the_sdks_hard_code_is_mapped(client, host):
    hosts = {r.host for r in REQUESTS}
    assert host in hosts
    request = next(r for r in REQUESTS if r.host == host)
    assert send(client, request).status_code == 200


def test_bodies_are_encoded_as_each_client_writes_them():
    pretty = encode_body({"token": "a/b"}, "apple-pretty").decode()
    assert pretty == '{\n  "token" : "a\\/b"\n}'
    assert encode_body({"u": "a/b"}, "apple-json-encoder") == b'{"u":"a\\/b"}'
    assert encode_body({"t": "a&b<c>='"}, "gson") == b'{"t":"a\\u0026b\\u003cc\\u003e\\u003d\\u0027"}'
    for request in REQUESTS:
        if request.body is not None:
            assert json.loads(request.data()) == request.body


def test_the_corpus_has_the_details_that_broke_real_clients():
    by_id = {r.id: r for r in REQUESTS}
    assert by_id["android-add-user"].body["context"]["screen"]["width"] == "1080"  # String.valueOf
    assert "parameters" not in by_id["ios-track"].body["events"][-1]  # nil parameters
    assert by_id["ios-push-token-empty"].body == {"token": ""} and by_id["android-push-token-empty"].body == {"token": ""}
    assert "language_code=en_US" in by_id["android-list-surveys"].query
    assert by_id["android-add-user-beta-host"].host == "beta-sdk.1flow.app"
    assert by_id["ios-track"].data().startswith(b'{\n  "events" : [')


@pytest.mark.parametrize("request_", REQUESTS, ids=IDS)
def test_each_answer_matches_the_spec(client, request_):
    """openapi.yaml describes what real clients get back (the spec stays the source of truth)."""
    import jsonschema_rs

    from mock_1flow.server.spec import bundle, load_spec

    spec = load_spec()
    operation = next(op for item in spec["paths"].values() for op in item.values()
                     if isinstance(op, dict) and op.get("operationId") == request_.operation)
    schema = operation["responses"][str(request_.expect_status)]["content"]["application/json"]["schema"]
    reply = send(client, request_)
    errors = [e.message for e in jsonschema_rs.Draft202012Validator(bundle(schema)).iter_errors(reply.get_json())]
    assert errors == []
