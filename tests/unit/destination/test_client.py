"""The client's retry rules, against the mock with injected faults: 429 honours Retry-After,
5xx and transport errors are retried with capped backoff, other 4xx are not and 1Flow's
error code reaches the caller. Plus what a socket cannot easily show (a stub transport)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.errors import DeliveryError
from mock_1flow.destination.settings import Settings

KEY = "oneflow_prod_acme"


@pytest.fixture
def mock(one_flow_mock):
    """The pytest plugin's server, reset before each test."""
    return one_flow_mock.server


def client_for(mock, key=KEY, region="us", **options):
    sleeps: list[float] = []
    options.setdefault("backoff", 0.01)
    client = OneFlowClient(Settings(key, region, mock.url), sleep=sleeps.append, **options)
    return client, sleeps


def calls(mock, path="/v3/user"):
    return [r for r in mock.admin("requests")["requests"] if r["path"].endswith(path)]


def test_429_honours_retry_after(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "status": 429, "retry_after": 3, "times": 2})
    client, sleeps = client_for(mock)
    assert len(client.add_user("device-1", {})) == 24
    assert sleeps == [3.0, 3.0]
    assert len(calls(mock)) == 3


def test_retry_after_is_capped(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "status": 429, "retry_after": 3600, "times": 1})
    client, sleeps = client_for(mock, max_retry_after=30)
    client.add_user("device-1", {})
    assert sleeps == [30]


def test_503_is_retried_with_growing_capped_backoff_then_succeeds(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "status": 503, "times": 4})
    client, sleeps = client_for(mock, backoff=0.1, max_backoff=0.5)
    client.add_user("device-1", {})
    assert len(sleeps) == 4 and sleeps[0] < sleeps[1] < sleeps[2] <= sleeps[3] == 0.5
    assert 0.1 <= sleeps[0] <= 0.11  # jitter: at most 10%
    assert [r["status"] for r in calls(mock)] == [503, 503, 503, 503, 200]


def test_the_jitter_is_reproducible():
    runs = []
    for _ in range(2):
        answers = [(503, {}, {"success": 503})] * 3 + [OK_USER]
        client, _, sleeps = stub_client(*answers, rng=random.Random(7), backoff=0.1)
        client.add_user("d", {})
        runs.append(sleeps)
    assert runs[0] == runs[1] and len(runs[0]) == 3 and len(set(runs[0])) == 3


def test_retries_are_capped_and_counted(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "status": 500})
    client, sleeps = client_for(mock, max_retries=2)
    with pytest.raises(DeliveryError) as error:
        client.add_user("device-1", {})
    assert (error.value.status, error.value.error, error.value.attempts) == (500, "injected_fault", 3)
    assert len(sleeps) == 2 and len(calls(mock)) == 3


def test_404_is_not_retried_and_its_code_reaches_the_caller(mock):
    client, sleeps = client_for(mock, key="oneflow_prod_nobody")
    with pytest.raises(DeliveryError) as error:
        client.add_user("device-1", {})
    assert (error.value.status, error.value.error, error.value.attempts) == (404, "unknown_key", 1)
    assert sleeps == [] and len(calls(mock)) == 1


@pytest.mark.parametrize("key, region, code", [
    ("oneflow_prod_globex", "us", "key_region_mismatch"),
    ("oneflow_prod_acme", "eu", "region_not_in_plan"),  # plan free: us only
])
def test_region_errors_reach_the_caller_unchanged(mock, key, region, code):
    client, sleeps = client_for(mock, key=key, region=region)
    with pytest.raises(DeliveryError) as error:
        client.track("0" * 24, [{"name": "A", "time": 1, "_id": "0" * 24}])
    assert (error.value.status, error.value.error) == (404, code) and sleeps == []


def test_a_400_from_validation_is_not_retried(mock):
    client, sleeps = client_for(mock)
    with pytest.raises(DeliveryError) as error:
        client.track("0" * 24, [])
    assert (error.value.status, error.value.error, error.value.attempts) == (400, "invalid_request", 1)
    assert sleeps == []


def test_a_dropped_connection_is_retried(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "drop_connection": True, "times": 2})
    client, sleeps = client_for(mock)
    assert len(client.add_user("device-1", {})) == 24
    assert len(sleeps) == 2


def test_transport_errors_exhaust_as_transport_error():
    client = OneFlowClient(Settings(KEY, "us", "http://127.0.0.1:9"), max_retries=2, sleep=lambda s: None)
    with pytest.raises(DeliveryError) as error:
        client.add_user("device-1", {})
    assert (error.value.status, error.value.error, error.value.attempts) == (None, "transport_error", 3)


def test_a_timeout_is_retried(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "latency_ms": 1500, "times": 1})
    client, sleeps = client_for(mock, timeout=0.3)
    assert len(client.add_user("device-1", {})) == 24
    assert len(sleeps) == 1


class Stub(BaseAdapter):
    """Answers with canned (status, headers, body) in turn and records the requests."""

    def __init__(self, *answers):
        super().__init__()
        self.answers, self.requests = list(answers), []

    def send(self, request, **kwargs):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        response = requests.Response()
        response.status_code, response.headers = status, CaseInsensitiveDict(headers)
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.request, response.url = request, request.url
        return response

    def close(self):
        """Nothing to release."""


def stub_client(*answers, **options):
    stub, sleeps = Stub(*answers), []
    session = requests.Session()
    session.mount("http://stub", stub)
    return OneFlowClient(Settings(KEY, "us", "http://stub"), session=session, sleep=sleeps.append, **options), stub, sleeps


OK_USER = (200, {}, {"success": 200, "message": "found", "result": {"analytic_user_id": "a" * 24, "system_id": "S"}})


def test_the_wire_request_carries_the_key_and_compact_json():
    client, stub, _ = stub_client(OK_USER)
    client.add_user("dévice", {"os": {"name": "iOS"}})
    (request,) = stub.requests
    assert request.url == "http://stub/us/api/2021-06-15/v3/user"
    assert request.headers["one_flow_key"] == KEY and request.headers["Content-Type"] == "application/json"
    assert request.body == '{"user_id":"dévice","context":{"os":{"name":"iOS"}}}'.encode()


def retry_after_wait(value):
    """The wait a 429 with ``Retry-After: value`` gets (backoff 0.2 when unreadable)."""
    client, _, sleeps = stub_client((429, {"Retry-After": value}, {"success": 429}), OK_USER)
    client.add_user("d", {})
    return sleeps[0]


def test_retry_after_as_an_http_date():
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    assert 8 <= retry_after_wait(soon) <= 10
    assert retry_after_wait("Tue, 24 Nov 2020 05:00:00 GMT") == 0
    assert retry_after_wait("2") == 2


@pytest.mark.parametrize("value", ["soon", "", "nan", "inf", "1e+23", "-3"])
def test_an_unreadable_retry_after_backs_off(value):
    assert 0.2 <= retry_after_wait(value) <= 0.22


def test_a_429_without_retry_after_backs_off():
    client, _, sleeps = stub_client((429, {}, {"success": 429, "error": "rate_limited"}), OK_USER)
    client.add_user("d", {})
    assert len(sleeps) == 1 and 0.2 <= sleeps[0] <= 0.22


def test_a_2xx_that_is_not_the_envelope_is_an_error_not_a_crash():
    client, _, sleeps = stub_client((200, {}, b"<html>captive portal</html>"))
    with pytest.raises(DeliveryError) as error:
        client.add_user("d", {})
    assert (error.value.status, error.value.error) == (200, "invalid_response") and sleeps == []
    client, _, _ = stub_client((200, {}, {"success": 200, "result": {}}))
    with pytest.raises(DeliveryError, match="no analytic_user_id"):
        client.identify("a" * 24, "u", {})


def test_a_4xx_without_a_json_body_keeps_its_status():
    client, _, _ = stub_client((403, {}, b"Forbidden"))
    with pytest.raises(DeliveryError) as error:
        client.track("a" * 24, [])
    assert (error.value.status, error.value.error, error.value.attempts) == (403, None, 1)


def test_a_tls_failure_is_not_retried():
    client, _, sleeps = stub_client(requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(DeliveryError) as error:
        client.add_user("d", {})
    assert (error.value.error, error.value.attempts, sleeps) == ("transport_error", 1, [])


def test_libcurl_replies_keep_the_last_heads_reason_and_headers():
    from mock_1flow.destination.client import CurlHeaders

    head = CurlHeaders(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\n"
                       b"Retry-After: 3\r\nVia: HTTP/1.1 proxy\r\n\r\n")
    assert (head.reason, head["retry-after"], dict(head)) == \
        ("Too Many Requests", "3", {"Retry-After": "3", "Via": "HTTP/1.1 proxy"})
    assert CurlHeaders(b"HTTP/1.1 200 OK\r\n\r\n").reason == "OK" and not CurlHeaders(b"HTTP/1.1 200 OK\r\n\r\n")


def test_the_default_transport_is_libcurl_for_http_and_urllib3_for_https():
    from mock_1flow.destination.client import CurlTransport, PoolTransport

    assert isinstance(OneFlowClient(Settings(KEY, "us", "http://127.0.0.1:9")).transport, CurlTransport)
    assert isinstance(OneFlowClient(Settings(KEY)).transport, PoolTransport)  # https://api-sdk.1flow.app


def test_a_get_with_parameters_over_libcurl(mock):
    client, _ = client_for(mock)
    analytic = client.add_user("device-get", {})
    assert isinstance(client.surveys(analytic, platform="ios"), list)
    (request,) = calls(mock, "/v3/survey")
    assert request["method"] == "GET" and request["status"] == 200
    assert sorted(request["query"].split("&")) == ["platform=ios", f"user_id={analytic}"]
