"""An identify re-points a userId to the identifying device's lane; events already queued
under that bare userId must still be sent (they were lost before: no outcome at all)."""

from __future__ import annotations

from mock_1flow.destination.destination import Destination
from mock_1flow.destination.settings import Settings


def test_events_queued_under_a_bare_user_id_survive_its_identify(one_flow_mock):
    events = [
        {"type": "track", "messageId": "m1", "userId": "user-1", "event": "Opened"},
        {"type": "identify", "messageId": "m2", "userId": "user-1", "anonymousId": "device-1", "traits": {}},
        {"type": "track", "messageId": "m3", "userId": "user-1", "event": "Closed"},
    ]
    report = Destination(Settings("oneflow_prod_acme", "us", one_flow_mock.url)).send(events)
    assert sorted((o.message_id, o.status) for o in report.outcomes) == [("m1", "sent"), ("m2", "sent"), ("m3", "sent")]
    one_flow_mock.assert_tracked("oneflow_prod_acme", name="Opened", count=1)
    one_flow_mock.assert_tracked("oneflow_prod_acme", name="Closed", count=1)
