"""Loading mappings in Segment's shape: presets, files, and load-time errors."""

from __future__ import annotations

import json

import pytest

from mock_1flow.destination.mapping import MAX_MAPPINGS, MappingError, load_subscriptions, resolve

TRACK = {"name": "Orders", "subscribe": 'type = "track" and event = "Order Completed"', "partnerAction": "trackEvent",
         "mapping": {"event_name": {"@template": "order_{{properties.order_id}}"}, "anonymousId": {"@path": "$.anonymousId"}}}


def test_presets_by_default():
    names = [s.name for s in load_subscriptions()]
    assert names == ["Track Event", "Identify User", "Screen Event", "Page Event"]


def test_a_file_and_the_subscriptions_wrapper(tmp_path):
    path = tmp_path / "mappings.json"
    path.write_text(json.dumps({"subscriptions": [TRACK]}))
    (subscription,) = load_subscriptions(path)
    event = {"type": "track", "event": "Order Completed", "anonymousId": "a", "properties": {"order_id": 7}}
    assert subscription.matches(event)
    assert resolve(subscription.mapping, event) == {"event_name": "order_7", "anonymousId": "a"}
    assert not subscription.matches({**event, "event": "Other"})


def test_disabled_mappings_never_match():
    (subscription,) = load_subscriptions([{**TRACK, "enabled": False}])
    assert not subscription.matches({"type": "track", "event": "Order Completed"})


@pytest.mark.parametrize(
    "item, words",
    [
        ({**TRACK, "partnerAction": "sendEmail"}, ["mapping 0 ('Orders')", "unknown partnerAction"]),
        ({**TRACK, "subscribe": 'type = "track" andd'}, ["'Orders'", "cannot parse trigger"]),
        ({**TRACK, "mapping": {"event_name": {"@nope": 1}}}, ["'Orders'", "unknown directive @nope", "mapping.event_name"]),
        ({**TRACK, "mapping": {"event_name": {"@path": "$.event", "x": 1}}}, ["mixed with other keys"]),
        ({**TRACK, "mapping": {"colour": "red"}}, ["unknown field(s) ['colour']"]),
        ({k: v for k, v in TRACK.items() if k != "subscribe"}, ["missing subscribe"]),
    ],
)
def test_bad_mappings_name_the_mapping_and_the_problem(item, words):
    with pytest.raises(MappingError) as error:
        load_subscriptions([item])
    for word in words:
        assert word in str(error.value)


def test_at_most_50_mappings():
    assert len(load_subscriptions([TRACK] * MAX_MAPPINGS)) == 50
    with pytest.raises(MappingError, match="at most 50"):
        load_subscriptions([TRACK] * (MAX_MAPPINGS + 1))


def test_unreadable_file(tmp_path):
    with pytest.raises(MappingError, match="cannot read"):
        load_subscriptions(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(MappingError, match="not JSON"):
        load_subscriptions(bad)
