"""End to end: the real segment-analytics-python client -> the mock's Segment API -> the
1Flow destination -> the 1Flow mock's state. And delivery under injected failures."""

from __future__ import annotations

from datetime import datetime

import pytest
from segment.analytics import Client

from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.mapping import load_subscriptions
from mock_1flow.destination.settings import Settings
from mock_1flow.events import generate_events
from mock_1flow.testing import MockServer

WRITE_KEY = "segment_wk_acme"
PROJECT = "oneflow_prod_acme"
STATE_FIELDS = ("_id", "name", "time", "parameters", "plt")


def send_with_segment_sdk(client: Client, event: dict) -> None:
    """Replay a generated event through the SDK's own call for its type."""
    common = {
        "context": event.get("context") or {},
        "timestamp": datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")) if event.get("timestamp") else None,
        "integrations": event.get("integrations") or {},
        "message_id": event["messageId"],
    }
    ids = {"user_id": event.get("userId"), "anonymous_id": event.get("anonymousId")}
    kind = event["type"]
    if kind == "identify":
        client.identify(traits=event.get("traits") or {}, **ids, **common)
    elif kind == "track":
        client.track(event=event["event"], properties=event.get("properties") or {}, **ids, **common)
    elif kind in ("page", "screen"):
        getattr(client, kind)(name=event.get("name"), category=event.get("category"),
                              properties=event.get("properties") or {}, **ids, **common)
    elif kind == "group":
        client.group(group_id=event["groupId"], traits=event.get("traits") or {}, **ids, **common)
    else:
        client.alias(previous_id=event["previousId"], user_id=event["userId"],
                     context=common["context"], timestamp=common["timestamp"], message_id=event["messageId"])


def project_state(mock: MockServer) -> tuple[list, list]:
    users = mock.admin(f"projects/{PROJECT}/users")["users"]
    events = mock.admin(f"projects/{PROJECT}/events")["events"]
    strip_users = sorted((u["analytic_user_id"], u["user_id"], tuple(u["device_ids"]), repr(u["parameters"])) for u in users)
    strip_events = sorted(tuple(repr(e[f]) for f in STATE_FIELDS) + (e["user_id"],) for e in events)
    return strip_users, strip_events


def test_segment_sdk_events_land_exactly_as_the_destination_maps_them():
    events = [e for e in generate_events(150, seed=11) if e.get("userId") or e.get("anonymousId")]
    with MockServer() as via_segment, MockServer() as direct:
        client = Client(WRITE_KEY, host=via_segment.url, upload_size=25, max_retries=1, sync_mode=False)
        for event in events:
            send_with_segment_sdk(client, event)
        client.flush()
        client.join()
        # The same events through the destination straight to a second mock: the expected state.
        settings = Settings(project_api_key=PROJECT, region="us", url=direct.url)
        # What the ingest runs for the fixture's source: profile mobile, its presets (no mappings).
        report = Destination(settings, load_subscriptions(), profile="mobile").send(events)
        expected = project_state(direct)
        actual = project_state(via_segment)
        segment_calls = via_segment.admin("requests", params={"path": "/v1/batch"})["requests"]
    assert expected[1], "the sample should contain deliverable events"
    assert actual == expected
    assert segment_calls and all(call["status"] == 200 for call in segment_calls)
    sent = sum(1 for outcome in report.outcomes if outcome.status == "sent")
    assert sent > 0


@pytest.mark.parametrize("status", [503, 429])
def test_every_event_is_delivered_exactly_once_while_30_percent_of_track_calls_fail(status):
    events = [e for e in generate_events(300, seed=5, types=("track", "screen", "page", "identify"))]
    with MockServer() as mock:
        fault = {"path": "/v3/track", "status": status, "probability": 0.3}
        if status == 429:
            fault["retry_after"] = 0
        mock.admin("faults", "POST", json=fault)
        settings = Settings(project_api_key=PROJECT, region="us", url=mock.url)
        client = OneFlowClient(settings, max_retries=12, backoff=0.001, max_backoff=0.01, sleep=lambda s: None)
        report = Destination(settings, client=client, batch_size=10, profile="mobile").send(events)
        stored = mock.admin(f"projects/{PROJECT}/events")["events"]
        faulted = mock.admin("requests", params={"status": status})["total"]
    sent_tracks = [o for o in report.outcomes if o.status == "sent" and o.type in ("track", "screen", "page")]
    assert faulted > 0, "the fault should have fired"
    assert not [o for o in report.outcomes if o.status == "failed"]
    ids = [e["_id"] for e in stored]
    assert len(ids) == len(set(ids)) == len(sent_tracks)
