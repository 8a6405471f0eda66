"""The destination against the mock: which calls it makes, in which order, and the one
outcome each event ends with."""

from __future__ import annotations

import pytest

from mock_1flow.destination import wire
from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.mapping import load_subscriptions, resolve
from mock_1flow.destination.profiles import PROFILES
from mock_1flow.destination.settings import Settings

KEY = "oneflow_prod_acme"


def destination(mock, key=KEY, region="us", subscriptions=None, **options):
    settings = Settings(key, region, mock.url)
    client = OneFlowClient(settings, max_retries=options.pop("max_retries", 0), sleep=lambda s: None)
    return Destination(settings, subscriptions, client=client, **options)


def track(message_id, device="d1", event="Viewed", **extra):
    return {"type": "track", "event": event, "anonymousId": device, "messageId": message_id,
            "timestamp": "2026-11-24T06:00:00Z", **extra}


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
def test_mobile_preset_naming(event, name):
    event = {**event, "anonymousId": "a"}
    (subscription,) = [s for s in PROFILES["mobile"].subscriptions() if s.matches(event)]
    payload = resolve(subscription.mapping, event)
    assert (subscription.partner_action, payload["event_name"]) == ("trackEvent", name)


def test_outcomes_for_every_kind_of_event(one_flow_mock):
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
    report = destination(one_flow_mock, profile="mobile").send(events)
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
    details = {o.message_id: o.detail for o in report.outcomes}
    assert "the SDK would get the event name None" in details["bad"]
    assert details["g"] == "1Flow does not take group calls"
    assert report.summary()["sent"] == 3
    stored = one_flow_mock.events(KEY)
    assert (stored[0]["name"], stored[0]["plt"], stored[0]["time"]) == ("Signed Up", "a", 1795500000)
    assert [e["name"] for e in stored] == ["Signed Up", "screen_Home"]
    identified = [u for u in one_flow_mock.users(KEY) if u["identified"]]
    assert identified[0]["user_id"] == "u1" and identified[0]["parameters"] == {"plan": "pro"}
    assert stored[0]["user_id"] == identified[0]["analytic_user_id"]


def test_a_key_outside_its_region_fails_with_the_mocks_code(one_flow_mock):
    report = destination(one_flow_mock, key="oneflow_prod_globex").send([track("m")])
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.reason, outcome.http_status, outcome.error) == \
        ("failed", "404 key_region_mismatch", 404, "key_region_mismatch")


def test_one_user_call_per_device_and_batches_per_user(one_flow_mock):
    events = [track(f"m{i}", device=f"d{i % 2}") for i in range(7)]
    report = destination(one_flow_mock, batch_size=3).send(events)
    assert report.sent == 7
    calls = [r for r in one_flow_mock.requests() if r["status"] == 200]
    by_path = {}
    for call in calls:
        by_path.setdefault(call["path"].rsplit("/v3/", 1)[1], []).append(call)
    assert len(by_path["user"]) == 2  # d0 and d1, once each
    assert len(by_path["track"]) == 3  # d0: 3 + 1, d1: 3
    assert len(one_flow_mock.events(KEY)) == 7


def test_process_returns_the_outcomes_it_finalised(one_flow_mock):
    dest = destination(one_flow_mock, batch_size=2)
    assert dest.process({"type": "group", "anonymousId": "d", "groupId": "g", "messageId": "g"})[0].reason == \
        "unsubscribed_type"
    assert dest.process(track("m1")) == []  # queued
    finished = dest.process(track("m2"))  # completes the batch
    assert [(o.message_id, o.status) for o in finished] == [("m1", "sent"), ("m2", "sent")]
    assert dest.process(track("m3")) == []
    assert [o.message_id for o in dest.flush()] == ["m3"]
    assert dest.flush() == []


def test_a_failed_batch_fails_each_of_its_events_with_status_and_code(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/track", status=503)
    seen = []
    report = destination(one_flow_mock, batch_size=5, on_outcome=seen.append).send(
        [track(f"m{i}") for i in range(3)] + [{"type": "identify", "anonymousId": "d1", "userId": "u", "messageId": "i"}]
    )
    assert [(o.message_id, o.status, o.reason) for o in report.outcomes] == [
        ("m0", "failed", "503 injected_fault"), ("m1", "failed", "503 injected_fault"),
        ("m2", "failed", "503 injected_fault"), ("i", "sent", None),
    ]
    assert seen == report.outcomes
    assert "after 1 attempt(s)" in report.outcomes[0].detail


def test_retries_deliver_exactly_once(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/track", status=503, times=2)
    report = destination(one_flow_mock, batch_size=2, max_retries=3).send([track(f"m{i}") for i in range(4)])
    assert report.sent == 4 and len(one_flow_mock.events(KEY)) == 4


def test_identify_replaces_the_devices_analytic_id(one_flow_mock):
    events = [
        track("before", device="d1"),
        {"type": "identify", "anonymousId": "d1", "userId": "u1", "traits": {"plan": "pro"}, "messageId": "id"},
        track("after", device="d1"),
        {"type": "track", "event": "Server Side", "userId": "u1", "messageId": "server"},  # no anonymousId
    ]
    report = destination(one_flow_mock).send(events)
    assert report.sent == 4
    (user,) = [u for u in one_flow_mock.users(KEY) if u["identified"]]
    stored = {e["_id"]: e["user_id"] for e in one_flow_mock.events(KEY)}
    assert stored[wire.object_id("after")] == stored[wire.object_id("server")] == user["analytic_user_id"]
    users = [r for r in one_flow_mock.requests() if r["path"].endswith("/v3/user")]
    assert len(users) == 1  # the identified userId is not registered as a new device


def test_events_queued_under_a_user_id_are_sent_when_a_device_logs_in_as_that_user(one_flow_mock):
    """A userId-only event opens a lane of its own; a later login of that userId on a device
    takes the userId over, and the first lane's queue must still go out (it was lost before)."""
    events = [
        {"type": "track", "event": "Server Side", "userId": "u1", "messageId": "server"},  # lane "u1"
        {"type": "identify", "anonymousId": "d1", "userId": "u1", "messageId": "id"},  # d1's lane becomes "u1"
        track("after", device="d1"),
    ]
    report = destination(one_flow_mock).send(events)
    assert len(report) == 3 and report.sent == 3
    assert {e["_id"] for e in one_flow_mock.events(KEY)} == {wire.object_id("server"), wire.object_id("after")}


def test_a_devices_whole_queue_goes_in_one_request_unless_capped(one_flow_mock):
    events = [track(f"m{i}", properties={"blob": "x" * 100}) for i in range(45)]
    assert destination(one_flow_mock).send(events).sent == 45
    tracks = [r for r in one_flow_mock.requests() if r["path"].endswith("/v3/track")]
    assert len(tracks) == 1  # as the SDKs send their queue: no split by size
    one_flow_mock.reset()
    assert destination(one_flow_mock, batch_size=20).send(events).sent == 45
    tracks = [r for r in one_flow_mock.requests() if r["path"].endswith("/v3/track")]
    assert len(tracks) == 3  # 20 + 20 + 5


def test_an_event_beyond_the_limit_fails_with_413(one_flow_mock, monkeypatch):
    monkeypatch.setattr(one_flow_mock.server.runtime.config, "max_body_bytes", 32 * 1024)  # the SDK API's is 8 MB
    report = destination(one_flow_mock).send([track("big", properties={"blob": "x" * 33_000})])
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.reason) == ("failed", "413 payload_too_large")


SUBSCRIPTIONS = load_subscriptions([
    {"name": "Everything", "subscribe": 'type = "track"', "partnerAction": "trackEvent",
     "mapping": {"event_name": {"@path": "$.event"}, "anonymousId": {"@path": "$.anonymousId"}}},
    {"name": "Orders again", "subscribe": 'event = "Order Completed"', "partnerAction": "trackEvent",
     "mapping": {"event_name": {"@literal": "order_copy"}, "anonymousId": {"@path": "$.anonymousId"}}},
    {"name": "Orders broken", "subscribe": 'event = "Order Completed"', "partnerAction": "trackEvent",
     "mapping": {"event_name": {"@path": "$.properties.missing"}, "anonymousId": {"@path": "$.anonymousId"}}},
    {"name": "Off", "subscribe": 'type = "track"', "partnerAction": "trackEvent", "enabled": False,
     "mapping": {"event_name": {"@literal": "never"}}},
    {"name": "Groups as events", "subscribe": 'type = "group"', "partnerAction": "trackEvent",
     "mapping": {"event_name": {"@template": "group_{{groupId}}"}, "anonymousId": {"@path": "$.anonymousId"}}},
])


def test_several_matching_subscriptions_give_one_outcome_per_event(one_flow_mock):
    report = destination(one_flow_mock, subscriptions=SUBSCRIPTIONS).send([
        track("order", event="Order Completed"),
        track("view", event="Viewed"),
        {"type": "identify", "anonymousId": "d1", "userId": "u1", "messageId": "identify"},
        {"type": "group", "anonymousId": "d1", "groupId": "g7", "messageId": "group"},
    ])
    got = {o.message_id: o for o in report.outcomes}
    assert len(report) == 4
    assert (got["order"].status, got["view"].status) == ("sent", "sent")
    assert got["order"].detail == "other matching actions: dropped (invalid_payload), sent"  # in the order they ended
    assert (got["identify"].status, got["identify"].reason) == ("dropped", "no_matching_mapping")
    assert got["group"].status == "sent"  # a custom subscription that takes groups is obeyed
    stored = one_flow_mock.events(KEY)
    # Two track actions on one event are two 1Flow events: the second has its own _id.
    assert sorted(e["name"] for e in stored) == ["Order Completed", "Viewed", "group_g7", "order_copy"]
    assert wire.object_id("order") in {e["_id"] for e in stored} and len({e["_id"] for e in stored}) == 4


def test_a_failed_action_makes_the_event_failed_even_if_another_was_sent(one_flow_mock):
    one_flow_mock.add_fault(path="/v3/identify", status=500)
    subscriptions = load_subscriptions([
        {"name": "Identify", "subscribe": 'type = "identify"', "partnerAction": "identifyUser",
         "mapping": {"userId": {"@path": "$.userId"}}},
        {"name": "Identify as event", "subscribe": 'type = "identify"', "partnerAction": "trackEvent",
         "mapping": {"event_name": {"@literal": "identified"}, "anonymousId": {"@path": "$.anonymousId"}}},
    ])
    report = destination(one_flow_mock, subscriptions=subscriptions).send(
        [{"type": "identify", "anonymousId": "d1", "userId": "u1", "messageId": "i"}])
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.reason) == ("failed", "500 injected_fault")
    assert outcome.detail.endswith("other matching actions: sent")


def test_concurrency_keeps_each_users_order_and_every_outcome(one_flow_mock):
    from mock_1flow.events import generate_events

    events = generate_events(400, seed=3)
    runs = []
    for concurrency in (1, 6):
        one_flow_mock.reset()
        settings = Settings(KEY, "us", one_flow_mock.url, profile="mobile")
        dest = Destination(settings, client=OneFlowClient(settings, max_retries=0, pool_size=concurrency),
                           batch_size=3, concurrency=concurrency)
        report = dest.send(events)
        dest.close()
        device = {wire.object_id(wire.message_id(e)): e.get("anonymousId") or e.get("userId") for e in events}
        per_user: dict = {}
        for stored in one_flow_mock.events(KEY):
            per_user.setdefault(device[stored["_id"]], []).append(stored["_id"])
        runs.append((sorted((o.message_id, o.status, o.reason) for o in report.outcomes), per_user))
    assert runs[0][0] == runs[1][0] and len(runs[0][0]) == len(events)
    assert runs[0][1] == runs[1][1] and runs[0][1]  # each device's events stored in the same order


def test_a_userid_lane_taken_over_by_an_identify_still_sends_its_queue(one_flow_mock):
    events = [
        {"type": "track", "event": "Server side", "userId": "u9", "messageId": "server"},  # the userId's own device
        {"type": "identify", "anonymousId": "d9", "userId": "u9", "messageId": "login"},  # u9 now means d9's user
        {"type": "track", "event": "After", "userId": "u9", "messageId": "after"},
    ]
    report = destination(one_flow_mock).send(events)
    assert sorted((o.message_id, o.status) for o in report.outcomes) == \
        [("after", "sent"), ("login", "sent"), ("server", "sent")]
    assert sorted(e["name"] for e in one_flow_mock.events(KEY)) == ["After", "Server side"]
