"""Properties of the destination over Faker-generated Segment events (hypothesis).

Each example is a seeded event; a failure shrinks to a small seed and notes the
``mock-1flow events generate`` command that prints it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_1flow.destination import wire
from mock_1flow.destination.mapping import load_subscriptions, resolve
from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.settings import Settings
from mock_1flow.events.strategies import segment_events
from mock_1flow.testing import MockServer
from mock_1flow.validation import validate_request

KEY = "oneflow_prod_acme"
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


class RecordingClient(OneFlowClient):
    """Builds every request as the real client does, checks it against openapi.yaml, and
    answers like the mock, without HTTP (so hypothesis can run many examples)."""

    def __init__(self) -> None:
        super().__init__(Settings(KEY))
        self.calls: list[tuple[str, dict]] = []

    def post(self, path: str, body: dict) -> dict:
        operation = {"/v3/user": "addUser", "/v3/identify": "identifyUser", "/v3/track": "trackEvents"}[path]
        assert validate_request(operation, body) == [], (path, body)
        self.calls.append((path, body))
        return {"analytic_user_id": "0123456789abcdef0123456" + str(len(self.calls) % 10), "session_id": "s"}


def run(events):
    client = RecordingClient()
    report = Destination(Settings(KEY), client=client, batch_size=5).send(events)
    return client, report


@PROPERTY_SETTINGS
@given(st.lists(segment_events(edge_cases=True), min_size=1, max_size=8))
def test_no_event_makes_the_destination_raise_and_each_has_one_outcome(events):
    client, report = run(events)
    assert len(report.outcomes) == len(events)
    assert all(outcome.status in ("sent", "dropped", "failed") for outcome in report.outcomes)


@PROPERTY_SETTINGS
@given(segment_events(types=["identify"], edge_cases=True))
def test_identify_without_user_id_is_never_sent(event):
    client, report = run([event])
    identifies = [body for path, body in client.calls if path == "/v3/identify"]
    if not event.get("userId"):
        assert identifies == [] and report.outcomes[0].reason in ("no_user_id", "invalid_payload")
    else:
        assert [body["user_id"] for body in identifies] in ([event["userId"]], [])


@PROPERTY_SETTINGS
@given(segment_events(types=["track", "screen", "page"]))
def test_event_names_arrive_as_segment_names_them(event):
    client, report = run([event])
    names = [e["name"] for path, body in client.calls if path == "/v3/track" for e in body["events"]]
    if event["type"] == "track":
        expected = event["event"]
    else:
        expected = f"{event['type']}_{event['name']}" if event.get("name") else f"{event['type']}_view"
    assert names == [expected]
    assert report.outcomes[0].status == "sent"


@pytest.fixture(scope="module")
def mock():
    with MockServer() as server:
        yield server


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(segment_events(), min_size=1, max_size=15))
def test_the_mock_accepts_every_request_and_stores_exactly_the_events_sent(mock, events):
    mock.reset()
    report = Destination(Settings(KEY, "us", mock.url), batch_size=4).send(events)
    assert report.failed == 0, report.summary()
    journal = mock.admin("requests")["requests"]
    assert all(entry["status"] == 200 for entry in journal)
    # A repeated messageId (hypothesis draws the same seed twice) is one event to 1Flow: same _id.
    sent_ids = sorted({wire.object_id(o.message_id) for o in report.outcomes
                       if o.status == "sent" and o.type in ("track", "screen", "page")})
    stored = mock.admin(f"projects/{KEY}/events")["events"]
    assert sorted(e["_id"] for e in stored) == sent_ids
    by_id = {wire.object_id(wire.message_id(e)): e for e in events}
    for stored_event in stored:
        source = by_id[stored_event["_id"]]
        (subscription,) = [s for s in load_subscriptions() if s.matches(source)]
        assert stored_event["name"] == resolve(subscription.mapping, source)["event_name"]
        assert stored_event["parameters"] == (source.get("properties") or {})
