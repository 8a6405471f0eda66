"""The destination delivering through 1Flow's public HTTP API (``api: "http"``): single calls
under 32 KB, batches under 500 KB, the same outcomes and retry rules as over the SDK API, under
faults; and ``mock-1flow send --api http``."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.destination import wire
from mock_1flow.destination.client import OneFlowClient
from mock_1flow.destination.destination import Destination
from mock_1flow.destination.errors import DeliveryError
from mock_1flow.destination.http_api import (
    BATCH_LIMIT,
    STANDARD_LIMIT,
    HttpApiClient,
    batches,
    client_for,
    http_api_base,
    iso_timestamp,
    track_body,
)
from mock_1flow.destination.settings import Settings
from mock_1flow.events import generate_events
from mock_1flow.events.jsonl import write_jsonl
from mock_1flow.pytest_plugin import MockClient
from mock_1flow.testing import MockServer

KEY = "oneflow_prod_acme"


@pytest.fixture(scope="module")
def whole_bodies_server():
    """A mock whose journal keeps bodies whole (up to 1 MB), so request sizes can be checked."""
    with MockServer(journal_body_max=1024 * 1024) as server:
        yield server


@pytest.fixture
def one_flow_mock(whole_bodies_server):
    whole_bodies_server.reset()
    return MockClient(whole_bodies_server)


def settings(url: str, key: str = KEY, region: str = "us") -> Settings:
    return Settings(key, region, url, api="http")


def http_requests(mock, **filters):
    return [r for r in mock.requests(**filters) if "/v1/" in r["path"]]


def encoded_size(entry) -> int:
    assert not entry["body_truncated"]
    return len(wire.encode(entry["body"]))


def track(name: str, user: str, blob: int = 0, index: int = 0) -> dict:
    return {"type": "track", "event": name, "userId": user, "messageId": f"m-{user}-{index}",
            "timestamp": "2022-09-30T03:26:24.894Z", "properties": {"blob": "x" * blob} if blob else {"i": index}}


# -- the wire --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, base", [
    ("https://api-sdk.1flow.app/api/2021-06-15", "https://api.1flow.app/v1"),  # the default: this API's real host
    ("https://api.1flow.app/v1", "https://api.1flow.app/v1"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/eu/v1"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/eu/v1"),
])
def test_base_url_rule(url, base):
    assert http_api_base(Settings(KEY, "eu", url, api="http")) == base


def test_settings_refuse_an_unknown_api():
    with pytest.raises(ValueError, match="api must be one of sdk, http"):
        Settings(KEY, api="graphql")


def test_client_for_picks_the_api():
    assert type(client_for(Settings(KEY))) is OneFlowClient
    assert type(client_for(settings("http://127.0.0.1:1"), max_retries=0)) is HttpApiClient


def test_track_body_from_an_sdk_event():
    event = {"name": "Signed Up", "time": 1664508384, "parameters": {"plan": "pro"}, "plt": "w", "_id": "a" * 24}
    assert track_body("u-1", event) == {"user_id": "u-1", "event": "Signed Up", "properties": {"plan": "pro"},
                                        "timestamp": "2022-09-30T03:26:24Z", "message_id": "a" * 24}
    assert iso_timestamp(0) == "1970-01-01T00:00:00Z"


def test_batches_are_cut_exactly_at_500_kb():
    """Whatever the events, each /v1/batch body is at most 500 KB, and no two neighbours could
    have been one (the next batch's first item would not have fitted)."""
    rng = random.Random(3)
    for _ in range(30):
        user = "user-" + "é" * rng.randint(0, 40)
        events = [{"name": "n" * rng.randint(1, 30), "time": rng.randint(0, 4_000_000_000),
                   "parameters": {"p": "x" * rng.randint(0, 40_000)}, "plt": "w", "_id": f"{i:024x}"} for i in range(60)]
        chunks = batches(user, events)
        assert [item["message_id"] for chunk in chunks for item in chunk] == [e["_id"] for e in events]
        for chunk, following in zip(chunks, chunks[1:] + [None]):
            assert len(wire.encode({"batch": chunk})) <= BATCH_LIMIT
            if following:
                assert len(wire.encode({"batch": chunk + following[:1]})) > BATCH_LIMIT
    assert batches("u", [{"name": "e", "time": 0, "parameters": {"p": "x" * 600_000}, "plt": "w", "_id": "0" * 24}])[0]


def test_a_failed_later_batch_says_what_the_earlier_ones_delivered(one_flow_mock):
    """A queue cut into two batches whose second is refused (an event over 500 KB alone)."""
    client = HttpApiClient(settings(one_flow_mock.url), max_retries=1, sleep=lambda seconds: None)
    queue = [{"name": "Big", "time": 1664508384, "parameters": {"blob": "x" * blob}, "plt": "w", "_id": f"{i:024x}"}
             for i, blob in enumerate([20_000] * 24 + [600_000])]
    with pytest.raises(DeliveryError) as failure:
        client.track("u-1", queue)
    assert (failure.value.status, failure.value.error) == (413, "payload_too_large")
    assert "24 of 25 events were delivered by earlier batches" in failure.value.message
    assert len(one_flow_mock.events(KEY)) == 24
    assert [r["status"] for r in one_flow_mock.requests()] == [200, 413]


# -- delivery against the mock ---------------------------------------------------------------------


def test_generated_events_reach_the_mock_through_the_http_api_only(one_flow_mock):
    events = generate_events(120, seed=11)
    report = Destination(settings(one_flow_mock.url), batch_size=10).send(events)
    assert report.failed == 0 and report.sent > 0
    journal = one_flow_mock.requests()
    assert journal and all(r["path"] in ("/us/v1/identify", "/us/v1/track", "/us/v1/batch") for r in journal)
    assert all(r["status"] == 200 and r["project"] == KEY for r in journal)
    tracked = [e for e in events if e["type"] == "track"]
    stored = one_flow_mock.events(KEY)
    assert len(stored) == len(tracked)
    identified = {e["userId"] for e in events if e["type"] == "identify" and e.get("userId")}
    users = {u["user_id"]: u for u in one_flow_mock.users(KEY)}
    assert identified <= set(users)
    for entry in journal:
        limit = BATCH_LIMIT if entry["path"].endswith("/batch") else STANDARD_LIMIT
        assert encoded_size(entry) <= limit


def test_identify_then_anonymous_events_go_to_the_user(one_flow_mock):
    events = [
        {"type": "track", "event": "Before", "anonymousId": "anon-1", "messageId": "m1"},
        {"type": "identify", "userId": "user-1", "anonymousId": "anon-1", "traits": {"email": "a@example.com"}, "messageId": "m2"},
        {"type": "track", "event": "After", "anonymousId": "anon-1", "messageId": "m3"},
    ]
    report = Destination(settings(one_flow_mock.url)).send(events)
    assert report.sent == 3
    users = {u["user_id"]: u for u in one_flow_mock.users(KEY)}
    assert users["user-1"]["parameters"] == {"email": "a@example.com"}
    by_name = {e["name"]: e["user_id"] for e in one_flow_mock.events(KEY)}
    assert by_name["After"] == users["user-1"]["analytic_user_id"]
    assert by_name["Before"] == users["anon-1"]["analytic_user_id"]  # sent before the login, under the device's id
    paths = [r["path"] for r in one_flow_mock.requests()]
    assert paths == ["/us/v1/track", "/us/v1/identify", "/us/v1/track"]
    assert one_flow_mock.requests()[0]["body"]["timestamp"].endswith("Z")


def test_big_queues_fill_batches_up_to_500_kb(one_flow_mock):
    events = [track("Big", "u-1", blob=20_000, index=i) for i in range(60)]  # about 1.2 MB in all
    report = Destination(settings(one_flow_mock.url), batch_size=500).send(events)
    assert report.sent == 60
    batches = http_requests(one_flow_mock, path="/us/v1/batch")
    assert len(batches) == 3 and all(r["status"] == 200 for r in batches)
    sizes = [encoded_size(r) for r in batches]
    assert all(size <= BATCH_LIMIT for size in sizes) and max(sizes) > BATCH_LIMIT - 25_000
    assert len(one_flow_mock.events(KEY)) == 60


def test_a_single_event_over_32_kb_goes_to_the_batch_endpoint(one_flow_mock):
    report = Destination(settings(one_flow_mock.url)).send([track("Large", "u-1", blob=40_000)])
    assert report.sent == 1
    [entry] = one_flow_mock.requests()
    assert entry["path"] == "/us/v1/batch" and 32 * 1024 < encoded_size(entry) <= BATCH_LIMIT


def test_a_single_event_over_500_kb_fails_with_413_and_is_not_retried(one_flow_mock):
    report = Destination(settings(one_flow_mock.url)).send([track("Huge", "u-1", blob=520_000)])
    [outcome] = report.outcomes
    assert (outcome.status, outcome.reason) == ("failed", "413 payload_too_large")
    assert len(one_flow_mock.requests()) == 1 and one_flow_mock.events(KEY) == []


def test_an_unknown_key_fails_every_event_with_401(one_flow_mock):
    events = [track("A", "u", index=i) for i in range(3)] + [{"type": "identify", "userId": "u", "messageId": "i"}]
    report = Destination(settings(one_flow_mock.url, key="oneflow_prod_nobody")).send(events)
    assert report.summary() == {"events": 4, "sent": 0, "dropped": {}, "failed": {"401 unknown_key": 4}}


def test_every_event_arrives_exactly_once_under_faults(one_flow_mock):
    """30% 503s, 429s with Retry-After and dropped connections on the HTTP API: with retries
    every event is stored once (message_id makes a resend a duplicate, never a second event)."""
    one_flow_mock.add_fault(path="/v1/*", status=503, probability=0.3)
    one_flow_mock.add_fault(path="/v1/batch", status=429, retry_after=0, probability=0.2)
    one_flow_mock.add_fault(path="/v1/track", drop_connection=True, probability=0.1)
    events = generate_events(150, seed=5)
    waits: list[float] = []
    client = HttpApiClient(settings(one_flow_mock.url), max_retries=12, sleep=waits.append)
    report = Destination(client.settings, client=client, batch_size=8).send(events)
    assert report.failed == 0, report.summary()
    stored = one_flow_mock.events(KEY)
    tracked = [e for e in events if e["type"] == "track"]
    assert len(stored) == len(tracked) == len({e["_id"] for e in stored})
    statuses = {r["status"] for r in one_flow_mock.requests()}
    assert {200, 503, 429} <= statuses and waits


def test_host_form_through_the_client():
    with MockServer(http_api_hosts={"127.0.0.1": "us"}) as mock:
        report = Destination(settings(mock.url + "/v1")).send([track("Hosted", "u-1")])
        assert report.sent == 1
        [entry] = mock.runtime.journal.query()[0]
        assert (entry["path"], entry["region"], entry["project"]) == ("/v1/track", "us", KEY)


# -- mock-1flow send --api http --------------------------------------------------------------------


def test_send_command_over_the_http_api(one_flow_mock, tmp_path):
    events = generate_events(40, seed=2)
    path = tmp_path / "events.jsonl"
    with open(path, "wb") as stream:
        write_jsonl(events, stream)
    result = CliRunner().invoke(main, ["send", str(path), "--api", "http", "--key", KEY, "--url", one_flow_mock.url,
                                       "--batch-size", "100"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].split() == ["total", "40"]
    assert {r["path"] for r in one_flow_mock.requests()} <= {"/us/v1/identify", "/us/v1/track", "/us/v1/batch"}
    assert len(one_flow_mock.events(KEY)) == len([e for e in events if e["type"] == "track"])


def test_send_command_reports_the_http_api_401(one_flow_mock, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(track("A", "u")) + "\n")
    result = CliRunner().invoke(main, ["send", str(path), "--api", "http", "--key", "oneflow_prod_nobody",
                                       "--url", one_flow_mock.url])
    assert result.exit_code == 1 and "401 unknown_key" in result.output
