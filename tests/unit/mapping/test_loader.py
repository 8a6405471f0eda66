"""Loading mappings in Segment's shape: the presets (Segment's 1Flow destination definition,
segmentio/action-destinations packages/browser-destinations/destinations/1flow/src/index.ts:
``mapping: defaultValues(trackEvent.fields)``), files, and load-time errors."""

from __future__ import annotations

import json

import pytest

from mock_1flow.destination.actions import ACTIONS
from mock_1flow.destination.mapping import (
    MAX_MAPPINGS, PRESETS_PATH, MappingError, Subscription, load_presets, load_subscriptions, resolve,
)

ORDERS = {"name": "Orders", "subscribe": 'type = "track" and event = "Order Completed"', "partnerAction": "trackEvent",
          "mapping": {"event_name": {"@template": "order_{{properties.order_id}}"}, "anonymousId": {"@path": "$.anonymousId"}}}
BASE = {"userId": "u-1", "anonymousId": "a-1", "properties": {"path": "/pricing"}}


def mapped(event):
    """(preset name, payload) for every preset the event matches."""
    return [(s.name, resolve(s.mapping, event)) for s in load_presets() if s.matches(event)]


def test_presets_are_segments_plus_screen_and_page():
    presets = {s.name: s for s in load_presets()}
    assert list(presets) == ["Track Event", "Identify User", "Screen Event", "Page Event"]
    assert load_subscriptions() == list(presets.values())
    for name, action in (("Track Event", "trackEvent"), ("Identify User", "identifyUser")):
        assert presets[name].partner_action == action
        assert presets[name].subscribe == ACTIONS[action].default_subscription
        assert presets[name].mapping == ACTIONS[action].defaults()  # defaultValues(action.fields)
    assert json.loads(PRESETS_PATH.read_text())[0]["type"] == "automatic"


def test_track_preset():
    event = {"type": "track", "event": "Order Completed", **BASE, "properties": {"revenue": 9.5}}
    assert mapped(event) == [("Track Event", {"event_name": "Order Completed", "userId": "u-1", "anonymousId": "a-1",
                                              "properties": {"revenue": 9.5}})]


def test_identify_preset_has_segments_fields_only():
    event = {"type": "identify", **BASE, "traits": {"email": "ada@example.com"}}
    assert mapped(event) == [("Identify User", {"userId": "u-1", "traits": {"email": "ada@example.com"}})]


@pytest.mark.parametrize(
    "event, name",
    [
        ({"type": "screen", "name": "Home"}, "screen_Home"),
        ({"type": "screen"}, "screen_view"),
        ({"type": "screen", "name": None}, "screen_view"),
        ({"type": "page", "name": "Pricing"}, "page_Pricing"),
        ({"type": "page"}, "page_view"),
    ],
)
def test_screen_and_page_presets_name_the_event(event, name):
    ((preset, payload),) = mapped({**event, **BASE})
    assert preset == ("Screen Event" if event["type"] == "screen" else "Page Event")
    assert payload == {"event_name": name, "userId": "u-1", "anonymousId": "a-1", "properties": {"path": "/pricing"}}


@pytest.mark.parametrize("kind", ["group", "alias"])
def test_group_and_alias_match_no_preset(kind):
    assert mapped({"type": kind, **BASE}) == []


def test_a_file_and_the_wrappers(tmp_path):
    path = tmp_path / "mappings.json"
    event = {"type": "track", "event": "Order Completed", "anonymousId": "a", "properties": {"order_id": 7}}
    for wrapper in ("subscriptions", "mappings"):
        path.write_text(json.dumps({wrapper: [ORDERS]}))
        (subscription,) = load_subscriptions(str(path))
        assert subscription.matches(event)
        assert resolve(subscription.mapping, event) == {"event_name": "order_7", "anonymousId": "a"}
        assert not subscription.matches({**event, "event": "Other"})
    path.write_text(json.dumps([ORDERS]))
    assert [s.name for s in load_subscriptions(path)] == ["Orders"]


def test_disabled_mappings_never_match():
    (subscription,) = load_subscriptions([{**ORDERS, "enabled": False}])
    assert not subscription.enabled
    assert not subscription.matches({"type": "track", "event": "Order Completed"})


def test_subscription_compiles_its_trigger():
    subscription = Subscription("S", 'type = "page"', "trackEvent", {})
    assert subscription.matches({"type": "page"}) and not subscription.matches({"type": "track"})
    with pytest.raises(MappingError, match="cannot parse trigger"):
        Subscription("S", "type =", "trackEvent", {})


def without(key):
    return {k: v for k, v in ORDERS.items() if k != key}


@pytest.mark.parametrize(
    "item, words",
    [
        ({**ORDERS, "partnerAction": "sendEmail"}, ["unknown partnerAction 'sendEmail' (known: trackEvent, identifyUser)"]),
        ({**ORDERS, "subscribe": 'type = "track" andd event = "x"'}, ["subscribe: cannot parse trigger", "at position 15"]),
        ({**ORDERS, "mapping": {"event_name": {"@nope": 1}}}, ["mapping: /event_name has an invalid directive: @nope"]),
        ({**ORDERS, "mapping": {"event_name": {"@path": "$.event", "x": 1}}},
         ["mapping: /event_name should only have one @-prefixed key but it has 2 keys.", "a directive is an object with one @-key"]),
        ({**ORDERS, "mapping": {"event_name": {"@template": 5}}}, ["/event_name/@template should be a string or a mapping directive"]),
        ({**ORDERS, "mapping": {"colour": "red"}}, ["unknown field 'colour' for trackEvent (fields: event_name, userId,"]),
        ({**ORDERS, "partnerAction": "identifyUser", "mapping": {"anonymousId": {"@path": "$.anonymousId"}}},
         ["unknown field 'anonymousId' for identifyUser (fields: userId, traits)"]),
        (without("subscribe"), ["missing field subscribe"]),
        ({"name": "Orders"}, ["missing fields subscribe, partnerAction, mapping"]),
        ({**ORDERS, "mapping": []}, ["mapping must be an object"]),
        ({**ORDERS, "enabled": "yes"}, ["enabled must be a bool"]),
    ],
)
def test_bad_mappings_name_the_mapping_and_the_problem(item, words):
    with pytest.raises(MappingError) as error:
        load_subscriptions([ORDERS, item])
    assert str(error.value).startswith("mapping 1 ('Orders'): ")
    for word in words:
        assert word in str(error.value)


def test_a_mapping_without_a_name_is_named_by_its_index():
    with pytest.raises(MappingError, match=r"^mapping 0: must be an object"):
        load_subscriptions(["nope"])
    with pytest.raises(MappingError, match=r"^mapping 0: missing field name"):
        load_subscriptions([without("name")])


def test_at_most_50_mappings():
    assert len(load_subscriptions([ORDERS] * MAX_MAPPINGS)) == MAX_MAPPINGS == 50
    with pytest.raises(MappingError, match="51 mappings: a destination instance holds at most 50"):
        load_subscriptions([ORDERS] * (MAX_MAPPINGS + 1))


def test_bad_sources(tmp_path):
    with pytest.raises(MappingError, match="cannot read the mappings file"):
        load_subscriptions(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(MappingError, match="not JSON"):
        load_subscriptions(bad)
    with pytest.raises(MappingError, match="needs a 'subscriptions'"):
        load_subscriptions({"presets": []})
    with pytest.raises(MappingError, match="mappings must be a list"):
        load_subscriptions({"subscriptions": {"name": "x"}})
