"""Events that make a directive (or a trigger) fail at send time: an ``invalid_payload``
outcome in Segment's words, never an exception (issue 9, item 4)."""

from __future__ import annotations

from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.mapping import load_subscriptions
from mock_1flow.destination.settings import Settings

KEY = "oneflow_prod_acme"
MAPPINGS = [
    {"name": "Named", "subscribe": 'type = "track" and event = "Named"', "partnerAction": "trackEvent",
     "mapping": {"event_name": {"@path": {"@path": "$.properties.field"}}, "anonymousId": {"@path": "$.anonymousId"}}},
    {"name": "Cased", "subscribe": 'type = "track" and event = "Cased"', "partnerAction": "trackEvent",
     "mapping": {"event_name": {"@case": {"operator": "title", "value": {"@path": "$.event"}}},
                 "anonymousId": {"@path": "$.anonymousId"}}},
    {"name": "Odd path", "subscribe": 'type = "track" and properties.constructor.caller != null',
     "partnerAction": "trackEvent", "mapping": {"event_name": "x", "anonymousId": {"@path": "$.anonymousId"}}},
]


def event(message_id, name, **properties):
    return {"type": "track", "event": name, "anonymousId": "d1", "messageId": message_id,
            "timestamp": "2026-11-24T06:00:00Z", "properties": properties}


def test_directive_failures_are_invalid_payload_with_segments_message(one_flow_mock):
    settings = Settings(KEY, "us", one_flow_mock.url)
    destination = Destination(settings, load_subscriptions(MAPPINGS),
                              client=OneFlowClient(settings, max_retries=0, sleep=lambda s: None))
    report = destination.send([
        event("number", "Named", field=12),  # @path of a number
        event("text", "Named", field="event"),  # works: the path names the event
        event("cased", "Cased"),  # @case with an operator Segment does not know, on a text
        event("other", "Other"),  # only the odd trigger could match: Segment's validate throws
    ])
    got = {outcome.message_id: outcome for outcome in report.outcomes}
    assert (got["number"].status, got["number"].reason) == ("dropped", "invalid_payload")
    assert "Named: cannot resolve mapping (@path: expected string, got number)" in got["number"].detail
    assert got["text"].status == "sent"
    assert (got["cased"].status, got["cased"].reason) == ("dropped", "invalid_payload")
    assert 'operator key should have a value of "lower" or "upper"' in got["cased"].detail
    assert (got["other"].status, got["other"].reason) == ("dropped", "no_matching_mapping")
    assert [e["name"] for e in one_flow_mock.events(KEY)] == ["Named"]
