"""openapi.yaml covers the host form: every request of the real-client corpus, at the URL the
client calls (``https://api-sdk.1flow.app/api/2021-06-15/...``), resolves to an operation of
the spec with the corpus's schemas, and its body passes that operation's validator. So Prism,
schemathesis and ``mock-1flow proxy`` validate host-form traffic, not only the path form."""

from __future__ import annotations

import pytest

from mock_1flow.contracts.corpus import all_corpora
from mock_1flow.server.operations import resolve
from mock_1flow.server.validation import operation_validators

REQUESTS = [request for corpus in all_corpora() for request in corpus.requests]


def test_the_corpus_is_host_form():
    assert len(REQUESTS) >= 30 and all(r.path.startswith("/api/2021-06-15/") for r in REQUESTS)


@pytest.mark.parametrize("request_", REQUESTS, ids=[r.id for r in REQUESTS])
def test_each_host_form_request_resolves_to_its_operation(request_):
    found = resolve(request_.method, request_.path, request_.host)
    assert found is not None, f"no operation of openapi.yaml serves {request_.method} https://{request_.host}{request_.path}"
    assert found.path_form == request_.operation and found.operation_id == request_.operation + "HostForm"
    validator = operation_validators()[found.operation_id]
    if request_.expect_status == 200:
        validator.validate_body(request_.data() or b"", "application/json")  # raises ApiError when off the spec
        query = dict(pair.split("=", 1) for pair in request_.query.split("&")) if request_.query else {}
        validator.validate_parameters(query, found.params)


@pytest.mark.parametrize("method, url, operation", [
    ("POST", "https://api.1flow.app/v1/identify", "httpIdentifyHostForm"),
    ("POST", "https://api.1flow.app/v1/batch", "httpBatchHostForm"),
    ("POST", "http://127.0.0.1/v1/identify", "segmentEvent"),  # /v1 elsewhere is Segment's
    ("POST", "http://127.0.0.1/us/v1/track", "httpTrack"),
    ("POST", "http://127.0.0.1/eu/api/2021-06-15/v3/track", "trackEvents"),
    ("GET", "https://api-sdk.1flow.app/api/2021-06-15/v3/survey/abc", "getSurveyHostForm"),
])
def test_host_and_path_forms_resolve_apart(method, url, operation):
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    found = resolve(method, parts.path, parts.hostname)
    assert found is not None and found.operation_id == operation


def test_a_path_the_spec_lacks_resolves_to_none():
    assert resolve("POST", "/api/2021-06-15/v3/nothing", "api-sdk.1flow.app") is None
    assert resolve("DELETE", "/api/2021-06-15/v3/user", "api-sdk.1flow.app") is None
