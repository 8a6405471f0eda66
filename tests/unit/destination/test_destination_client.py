"""The destination's client against the mock: retry rules, error codes, wire format, presets, outcomes."""

from __future__ import annotations

import pytest

from mock_1flow.destination import wire
from mock_1flow.destination.actions import validate_payload
from mock_1flow.destination.mapping import load_subscriptions, resolve
from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.errors import DeliveryError, PayloadValidationError
from mock_1flow.destination.settings import DEFAULT_URL, Settings
from mock_1flow.validation import validate_request

KEY = "oneflow_prod_acme"


@pytest.fixture
def mock(one_flow_mock):
    """The pytest plugin's server, reset before each test."""
    return one_flow_mock.server


def client_for(mock, key=KEY, region="us", **options):
    sleeps: list[float] = []
    settings = Settings(project_api_key=key, region=region, url=mock.url)
    client = OneFlowClient(settings, sleep=sleeps.append, backoff=0.01, **options)
    return client, sleeps


def test_settings_bases():
    assert Settings("k").api_base == DEFAULT_URL
    assert Settings("k", "eu", "http://127.0.0.1:8080/").api_base == "http://127.0.0.1:8080/eu/api/2021-06-15"
    with pytest.raises(ValueError, match="projectApiKey"):
        Settings(" ")
    with pytest.raises(ValueError, match="region"):
        Settings("k", "ap")


def test_429_honours_retry_after(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "status": 429, "retry_after": 3, "times": 2})
    client, sleeps = client_for(mock)
    assert len(client.add_user("device-1", {})) == 24
    assert sleeps == [3.0, 3.0]


def test_503_is_retried_with_growing_backoff_then_succeeds(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "status": 503, "times": 3})
    client, sleeps = client_for(mock)
    client.add_user("device-1", {})
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]


def test_retries_are_capped(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "status": 500})
    client, sleeps = client_for(mock, max_retries=2)
    with pytest.raises(DeliveryError) as error:
        client.add_user("device-1", {})
    assert (error.value.status, error.value.error, error.value.attempts) == (500, "injected_fault", 3)


def test_404_is_not_retried_and_its_code_reaches_the_caller(mock):
    client, sleeps = client_for(mock, key="oneflow_prod_nobody")
    with pytest.raises(DeliveryError) as error:
        client.add_user("device-1", {})
    assert (error.value.status, error.value.error, error.value.attempts) == (404, "unknown_key", 1)
    assert sleeps == []
    assert len(mock.admin("requests")["requests"]) == 1


def test_transport_errors_are_retried(mock):
    mock.admin("faults", "POST", json={"path": "/v3/user", "drop_connection": True, "times": 1})
    client, sleeps = client_for(mock)
    client.add_user("device-1", {})
    assert len(sleeps) == 1


def test_key_outside_its_region_fails_with_the_mock_code(mock):
    report = Destination(Settings("oneflow_prod_globex", "us", mock.url)).send(
        [{"type": "track", "event": "A", "anonymousId": "d", "messageId": "m"}]
    )
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.http_status, outcome.error) == ("failed", 404, "key_region_mismatch")


@pytest.mark.parametrize(
    "event, name",
    [
        ({"type": "track", "event": "Order Completed"}, "Order Completed"),
        ({"type": "screen", "name": "Home"}, "screen_Home"),
        ({"type": "screen"}, "screen_view"),
        ({"type": "page", "name": "Pricing"}, "page_Pricing"),
        ({"type": "page", "name": None}, "page_view"),
    ],
)
def test_preset_naming(event, name):
    event = {**event, "anonymousId": "a"}
    (subscription,) = [s for s in load_subscriptions() if s.matches(event)]
    payload = resolve(subscription.mapping, event)
    assert (subscription.partner_action, payload["event_name"]) == ("trackEvent", name)


@pytest.mark.parametrize(
    "payload, message",
    [
        ({}, "The root value is missing the required field 'event_name'."),
        ({"event_name": {"a": 1}}, "The value at /event_name must be a string but it was an object."),
        ({"event_name": "x", "properties": []}, "The value at /properties must be an object but it was an array."),
    ],
)
def test_payload_validation_uses_segment_wording(payload, message):
    with pytest.raises(PayloadValidationError) as error:
        validate_payload("trackEvent", payload)
    assert str(error.value) == message


def test_payload_scalars_are_coerced_as_segment_does():
    assert validate_payload("trackEvent", {"event_name": 5}) == {"event_name": "5"}


def test_outcomes_for_every_kind_of_event(mock):
    events = [
        {"type": "identify", "anonymousId": "d1", "traits": {"email": "a@b.co"}, "messageId": "no-user"},
        {"type": "identify", "anonymousId": "d1", "userId": "u1", "traits": {"plan": "pro"}, "messageId": "id"},
        {"type": "track", "event": "Signed Up", "anonymousId": "d1", "userId": "u1", "messageId": "t1",
         "timestamp": "2026-11-24T06:00:00Z", "context": {"os": {"name": "Android", "version": "14"}}},
        {"type": "track", "anonymousId": "d1", "messageId": "bad"},
        {"type": "group", "anonymousId": "d1", "groupId": "g", "messageId": "g"},
        {"type": "alias", "userId": "u1", "previousId": "d1", "messageId": "a"},
        {"type": "screen", "name": "Home", "anonymousId": "d2", "messageId": "s"},
    ]
    report = Destination(Settings(KEY, "us", mock.url)).send(events)
    got = {o.message_id: (o.status, o.reason) for o in report.outcomes}
    assert got == {
        "no-user": ("dropped", "no_user_id"),
        "id": ("sent", None),
        "t1": ("sent", None),
        "bad": ("dropped", "invalid_payload"),
        "g": ("dropped", "unsubscribed_type"),
        "a": ("dropped", "unsubscribed_type"),
        "s": ("sent", None),
    }
    assert report.summary()["sent"] == 3
    stored = mock.admin(f"projects/{KEY}/events")["events"]
    assert [(e["name"], e["plt"], e["time"]) for e in stored][0] == ("Signed Up", "a", 1795500000)
    users = mock.admin(f"projects/{KEY}/users")["users"]
    identified = [u for u in users if u["identified"]]
    assert identified[0]["user_id"] == "u1" and identified[0]["parameters"] == {"plan": "pro"}
    assert stored[0]["user_id"] == identified[0]["analytic_user_id"]


def test_wire_bodies_validate_against_the_spec():
    event = {"type": "track", "event": "A", "anonymousId": "d", "messageId": "m", "properties": {"x": 1},
             "context": {"os": {"name": "iOS", "version": 17}, "screen": {"width": 390, "height": -1},
                         "network": {"wifi": "yes", "carrier": "T"}}}
    payload = resolve(load_subscriptions()[0].mapping, event)
    track = {"user_id": "0" * 24, "events": [wire.track_event(payload, event)]}
    assert validate_request("trackEvents", track) == []
    context = wire.device_context(event)
    assert context == {"network": {"carrier": "T"}, "os": {"name": "iOS"}, "screen": {"width": 390}}
    assert validate_request("addUser", {"user_id": "d", "context": context}) == []
    assert wire.object_id("m") == wire.object_id("m") != wire.object_id("n")
