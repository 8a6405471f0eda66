"""Properties of the destination over Faker-generated Segment events (hypothesis).

Each example is a seeded event; a failure shrinks to a small seed and notes the
``mock-1flow events generate`` command that prints it. Most properties run the real
client against the mock in-process (a requests adapter, no socket) so hypothesis can try
many examples; the last one goes over a loopback socket and reads the mock's admin API.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from mock_1flow.app import create_app
from mock_1flow.destination import wire
from mock_1flow.destination.actions import validate_payload
from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.mapping import resolve
from mock_1flow.destination.profiles import PROFILES
from mock_1flow.destination.settings import Settings
from mock_1flow.events.strategies import segment_events
from mock_1flow.ingest.inprocess import INPROCESS_URL, InProcessAdapter
from mock_1flow.testing import MockServer
from mock_1flow.server.validation import validate_request

KEY = "oneflow_prod_acme"
OPERATIONS = {"/v3/user": "addUser", "/v3/identify": "identifyUser", "/v3/track": "trackEvents"}
BASE = "/us/api/2021-06-15"
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
PRESETS = PROFILES["cloud"].subscriptions()  # the properties below that use ``validated`` follow the cloud runtime

# What the mock answers in place of the real one when a failure is planned; "drop" is a
# dropped connection.
FAILURES = st.sampled_from([429, 500, 503, 404, 400, "drop"])


class Recorder(BaseAdapter):
    """Records every request the real client builds, checks its body against openapi.yaml,
    and hands it to a fresh mock in-process, unless the plan says to fail it."""

    def __init__(self, plan: list[Any] | None = None) -> None:
        super().__init__()
        self.mock = InProcessAdapter(create_app())
        self.plan = list(plan or [])
        self.calls: list[tuple[str, dict]] = []
        self.violations: list[tuple[str, list]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        path = request.path_url.removeprefix(BASE)
        body = json.loads(request.body)
        assert request.headers["one_flow_key"] == KEY
        self.calls.append((path, body))
        violations = validate_request(OPERATIONS[path], body)
        if violations:
            self.violations.append((path, violations))
        planned = self.plan.pop(0) if self.plan else None
        if planned == "drop":
            raise requests.ConnectionError("connection dropped (planned)")
        if planned is not None:
            return planned_failure(request, planned)
        return self.mock.send(request, **kwargs)

    def sent(self, path: str) -> list[dict]:
        return [body for called, body in self.calls if called == path]

    def close(self) -> None:
        """Nothing to release."""


def planned_failure(request: requests.PreparedRequest, status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", "Retry-After": "0"})
    response._content = json.dumps({"success": status, "message": "planned", "error": f"planned_{status}",
                                    "result": None}).encode()
    response.request, response.url = request, request.url
    return response


def run(events: list[dict], plan: list[Any] | None = None, batch_size: int = 5, profile: str = "cloud"):
    recorder = Recorder(plan)
    session = requests.Session()
    session.mount(INPROCESS_URL, recorder)
    settings_ = Settings(KEY, "us", INPROCESS_URL)
    client = OneFlowClient(settings_, session=session, max_retries=1, sleep=lambda seconds: None)
    report = Destination(settings_, client=client, batch_size=batch_size, profile=profile).send(events)
    assert recorder.violations == [], recorder.violations
    return recorder, report


def one_outcome_each(events: list[dict], report) -> None:
    assert sorted(o.message_id for o in report.outcomes) == sorted(wire.message_id(e) for e in events)


def too_large(outcome, events: list[dict]) -> bool:
    """Edge-case mode makes events near Segment's 32 KB; mapped, some pass 1Flow's 32 KB per
    request, and 1Flow's 413 is the honest outcome for those (and only those)."""
    (event,) = [e for e in events if wire.message_id(e) == outcome.message_id][:1]
    return outcome.reason == "413 payload_too_large" and len(wire.encode(event)) > 30_000


@pytest.mark.parametrize("profile", list(PROFILES))
@PROPERTY_SETTINGS
@given(events=st.lists(segment_events(edge_cases=True), min_size=1, max_size=8))
def test_no_event_makes_the_destination_raise_and_each_has_one_outcome(profile, events):
    _, report = run(events, profile=profile)
    one_outcome_each(events, report)
    # Every request the destination built matched openapi.yaml (checked in run) and the mock took it.
    assert all(too_large(o, events) for o in report.outcomes if o.status == "failed"), report.summary()


@PROPERTY_SETTINGS
@given(st.lists(segment_events(edge_cases=True), min_size=1, max_size=8), st.lists(st.none() | FAILURES, max_size=12))
def test_failures_never_raise_and_are_reported_with_their_status(events, plan):
    _, report = run(events, plan, batch_size=3)
    one_outcome_each(events, report)
    for outcome in report.outcomes:
        if outcome.status == "failed":
            assert (outcome.http_status, outcome.error) in {(s, f"planned_{s}") for s in (429, 500, 503, 404, 400)} \
                or (outcome.http_status, outcome.reason) == (None, "transport_error") or too_large(outcome, events), outcome


def validated(event: dict) -> dict:
    """The action payload Segment's runtime would hand over for ``event`` (preset mapping)."""
    (subscription,) = [s for s in PRESETS if s.matches(event)]
    return validate_payload(subscription.partner_action, resolve(subscription.mapping, event))


@PROPERTY_SETTINGS
@given(segment_events(types=["identify"], edge_cases=True))
def test_identify_without_user_id_is_never_sent(event):
    recorder, report = run([event])
    (outcome,) = report.outcomes
    identifies = recorder.sent("/v3/identify")
    if event.get("userId") in (None, ""):
        assert identifies == [] and outcome.reason in ("no_user_id", "invalid_payload")
    elif outcome.status == "dropped":
        assert outcome.reason == "invalid_payload" and identifies == []
    else:
        payload = validated(event)
        assert [body["user_id"] for body in identifies] == [payload["userId"]]
        assert identifies[0]["parameters"] == (payload.get("traits") or {})
        if isinstance(event["userId"], str):
            assert payload["userId"] == event["userId"]
        assert outcome.status == "sent" or too_large(outcome, [event])


@PROPERTY_SETTINGS
@given(segment_events(types=["track"], edge_cases=True) | segment_events(types=["track"]))
def test_track_event_names_arrive_unchanged(event):
    recorder, report = run([event])
    (outcome,) = report.outcomes
    names = [e["name"] for body in recorder.sent("/v3/track") for e in body["events"]]
    if outcome.status == "dropped":
        assert outcome.reason == "invalid_payload" and names == []
    else:
        # A string name arrives byte for byte; Segment's runtime turns a number into its string.
        expected = event["event"] if isinstance(event["event"], str) else validated(event)["event_name"]
        assert names == [expected]
        assert outcome.status == "sent" or too_large(outcome, [event])


@PROPERTY_SETTINGS
@given(segment_events(types=["screen", "page"]))
def test_mobile_screen_and_page_naming(event):
    recorder, report = run([event], profile="mobile")
    names = [e["name"] for body in recorder.sent("/v3/track") for e in body["events"]]
    kind, name = event["type"], event.get("name")
    assert names == [f"{kind}_{name}" if name else f"{kind}_view"]
    assert report.outcomes[0].status == "sent"


@pytest.fixture(scope="module")
def mock():
    with MockServer() as server:
        yield server


def expected_event(source: dict) -> dict:
    """What the mobile profile (no validation) sends for a well-formed event."""
    (subscription,) = [s for s in PROFILES["mobile"].subscriptions() if s.matches(source)]
    call = PROFILES["mobile"].call(subscription, source)
    return wire.track_event(call.target, call.parameters or {}, source)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(segment_events(), min_size=1, max_size=15))
def test_the_mock_accepts_every_request_and_stores_exactly_the_events_sent(mock, events):
    # One event per messageId: the same seed drawn twice (maybe in another locale) would be
    # one event to 1Flow (same _id), which the e2e tests' exactly-once check covers.
    first: dict[str, dict] = {}
    for event in events:
        first.setdefault(wire.message_id(event), event)
    events = list(first.values())
    mock.reset()
    report = Destination(Settings(KEY, "us", mock.url, profile="mobile"), batch_size=4).send(events)
    assert report.failed == 0, report.summary()
    journal = mock.admin("requests")["requests"]
    assert all(entry["status"] == 200 for entry in journal)
    sent = {wire.object_id(o.message_id) for o in report.outcomes
            if o.status == "sent" and o.type in ("track", "screen", "page")}
    expected = [expected_event(e) for e in events if e["type"] in ("track", "screen", "page")]
    assert {e["_id"] for e in expected} == sent
    stored = mock.admin(f"projects/{KEY}/events")["events"]
    fields = ("_id", "name", "time", "parameters", "plt")
    assert sorted(tuple(json.dumps(e[f], sort_keys=True) for f in fields) for e in stored) == \
        sorted(tuple(json.dumps(e[f], sort_keys=True) for f in fields) for e in expected)
