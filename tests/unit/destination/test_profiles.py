"""Runtime profiles: per source, the SDK call each of Segment's six event types causes, and
how those calls reach the mock (``/v3/user``, ``/v3/identify``, ``/v3/track``)."""

from __future__ import annotations

import pytest

from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.profiles import PROFILES, SdkCall, java_string, js_spread, profile, string_map
from mock_1flow.destination.settings import Settings

KEY = "oneflow_prod_acme"
TRAITS = {"plan": "pro", "age": 30}
PROPERTIES = {"revenue": 9.5, "items": [1, 2], "coupon": None}
EVENTS = {
    "identify": {"type": "identify", "userId": "u1", "anonymousId": "d1", "traits": TRAITS, "messageId": "i"},
    "track": {"type": "track", "event": "Order Completed", "userId": "u1", "anonymousId": "d1",
              "properties": PROPERTIES, "messageId": "t"},
    "page": {"type": "page", "name": "Pricing", "anonymousId": "d1", "properties": {"path": "/pricing"}, "messageId": "p"},
    "screen": {"type": "screen", "name": "Home", "anonymousId": "d1", "properties": {"from": "push"}, "messageId": "s"},
    "group": {"type": "group", "groupId": "g1", "anonymousId": "d1", "traits": {"name": "Acme"}, "messageId": "g"},
    "alias": {"type": "alias", "userId": "u1", "previousId": "d1", "messageId": "a"},
}
WEB_IDENTIFY = SdkCall("identify", "u1", TRAITS)
WEB_TRACK = SdkCall("track", "Order Completed", PROPERTIES, "u1", "d1")

# profile -> event type -> the SDK calls it causes
EXPECTED = {
    "web": {"identify": [WEB_IDENTIFY], "track": [WEB_TRACK], "page": [], "screen": [], "group": [], "alias": []},
    "cloud": {"identify": [WEB_IDENTIFY], "track": [WEB_TRACK], "page": [], "screen": [], "group": [], "alias": []},
    "mobile": {
        "identify": [WEB_IDENTIFY], "track": [WEB_TRACK],
        "page": [SdkCall("track", "page_Pricing", {"path": "/pricing"}, None, "d1")],
        "screen": [SdkCall("track", "screen_Home", {"from": "push"}, None, "d1")],
        "group": [], "alias": [],
    },
    "ios": {
        "identify": [SdkCall("identify", "u1", TRAITS)],
        "track": [SdkCall("track", "Order Completed", PROPERTIES)],
        "page": [],
        "screen": [SdkCall("track", "Home", {"from": "push"})],  # the bare screen name
        "group": [], "alias": [],
    },
    "android": {
        "identify": [SdkCall("identify", "u1", {"plan": "pro", "age": "30"})],
        "track": [SdkCall("track", "Order Completed", {"revenue": "9.5", "items": "[1, 2]", "coupon": "null"})],
        "page": [], "screen": [], "group": [], "alias": [],
    },
}


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("kind", list(EVENTS))
def test_the_calls_each_event_type_causes(name, kind):
    assert PROFILES[name].calls(EVENTS[kind]) == EXPECTED[name][kind]


def test_every_profile_is_tested_and_web_is_the_default():
    assert set(EXPECTED) == set(PROFILES)
    assert profile(None) is PROFILES["web"] and Settings(KEY).profile == "web"
    with pytest.raises(ValueError, match="unknown profile 'tv'; known: web, mobile, ios, android, cloud"):
        profile("tv")
    with pytest.raises(ValueError, match="profile must be one of"):
        Settings(KEY, profile="tv")


def test_web_presets_are_segments_two():
    assert [s.name for s in PROFILES["web"].subscriptions()] == ["Track Event", "Identify User"]
    assert [s.subscribe for s in PROFILES["web"].subscriptions()] == ['type = "track"', 'type = "identify"']


def test_nameless_screens_and_pages():
    screen, page = {"type": "screen", "anonymousId": "d"}, {"type": "page", "anonymousId": "d"}
    assert [c.target for c in PROFILES["ios"].calls(screen)] == ["screen_view"]
    assert [c.target for c in PROFILES["mobile"].calls(screen)] == ["screen_view"]
    assert [c.target for c in PROFILES["mobile"].calls(page)] == ["page_view"]


def test_the_browser_runtime_does_not_validate_but_the_cloud_one_does():
    nameless = {"type": "track", "anonymousId": "d", "properties": {"a": 1}}
    assert PROFILES["web"].calls(nameless) == [SdkCall("track", None, {"a": 1}, None, "d")]  # _1flow('track', undefined, ...)
    numeric = {"type": "track", "event": 5, "anonymousId": "d"}
    assert PROFILES["web"].calls(numeric)[0].target == 5
    assert PROFILES["cloud"].calls(numeric)[0].target == "5"  # Ajv's coercion
    with pytest.raises(ValueError, match="The root value is missing the required field 'event_name'."):
        PROFILES["cloud"].calls(nameless)


def test_web_identify_spreads_traits_as_javascript_does():
    anonymous = {"type": "identify", "anonymousId": "d", "traits": "ab"}
    assert PROFILES["web"].calls(anonymous) == [SdkCall("identify", None, {"0": "a", "1": "b"})]
    assert js_spread(None) == js_spread(3) == {} and js_spread([7]) == {"0": 7}


def test_android_stringifies_as_java():
    assert [java_string(v) for v in (1, 2.0, 9.5, 1e10, 1.5e-5, -0.0, True, None, "x")] == \
        ["1", "2.0", "9.5", "1.0E10", "1.5E-5", "-0.0", "true", "null", "x"]
    assert java_string({"a": {"b": [1, "c"]}}) == "{a={b=[1, c]}}"
    assert string_map(None) == {} and string_map({"n": 12345678.0}) == {"n": "1.2345678E7"}


def send(mock, name, events):
    settings = Settings(KEY, "us", mock.url, profile=name)
    return Destination(settings, client=OneFlowClient(settings, max_retries=0)).send(events)


@pytest.mark.parametrize("name, names, plt", [
    ("web", ["Order Completed"], "w"),
    ("cloud", ["Order Completed"], "w"),
    ("mobile", ["Order Completed", "page_Pricing", "screen_Home"], "w"),
    ("ios", ["Order Completed", "Home"], "i"),
    ("android", ["Order Completed"], "a"),
])
def test_each_profile_against_the_mock(one_flow_mock, name, names, plt):
    report = send(one_flow_mock, name, list(EVENTS.values()))
    outcomes = {o.message_id: (o.status, o.reason) for o in report.outcomes}
    assert outcomes["i"] == outcomes["t"] == ("sent", None)
    assert outcomes["g"] == outcomes["a"] == ("dropped", "unsubscribed_type")
    stored = one_flow_mock.events(KEY)
    assert [e["name"] for e in stored] == names and {e["plt"] for e in stored} == {plt}
    (user,) = [u for u in one_flow_mock.users(KEY) if u["identified"]]
    assert user["user_id"] == "u1"
    assert user["parameters"] == ({"plan": "pro", "age": "30"} if name == "android" else TRAITS)
    # The identify came first, so the track went to the identified user.
    assert stored[0]["user_id"] == user["analytic_user_id"]


@pytest.mark.parametrize("name", list(PROFILES))
def test_identify_without_a_user_id_is_not_sent_in_any_profile(one_flow_mock, name):
    report = send(one_flow_mock, name, [{"type": "identify", "anonymousId": "d", "traits": {}, "messageId": "n"}])
    assert [(o.status, o.reason) for o in report.outcomes] == [("dropped", "no_user_id")]
    assert not [r for r in one_flow_mock.requests() if r["path"].endswith("/v3/identify")]


def test_a_nameless_track_is_dropped_with_the_call_it_would_make(one_flow_mock):
    (web,) = send(one_flow_mock, "web", [{"type": "track", "anonymousId": "d", "messageId": "x"}]).outcomes
    assert (web.status, web.reason) == ("dropped", "invalid_payload")
    assert "the SDK would get the event name None" in web.detail
    (cloud,) = send(one_flow_mock, "cloud", [{"type": "track", "anonymousId": "d", "messageId": "x"}]).outcomes
    assert "The root value is missing the required field 'event_name'." in cloud.detail
    assert one_flow_mock.events(KEY) == []
