"""The pure payload -> 1Flow body mapping: names, parameters, time, platform, ids, context."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from mock_1flow.destination import wire
from mock_1flow.server.validation import validate_request

EVENT = {
    "type": "track", "event": "Order Completed", "messageId": "m-1", "timestamp": "2026-11-24T06:00:00.123Z",
    "properties": {"revenue": 9.5}, "anonymousId": "d",
    "context": {"os": {"name": "iOS", "version": "17.1"}, "app": {"version": "2.1", "build": "210"}},
}


def test_track_event_maps_name_parameters_time_platform_and_id():
    assert wire.track_event("Order Completed", {"revenue": 9.5}, EVENT) == {
        "name": "Order Completed",
        "time": 1795500000,
        "parameters": {"revenue": 9.5},
        "plt": "i",
        "_id": wire.object_id("m-1"),
    }


def test_a_profile_can_fix_the_platform():
    assert wire.track_event("A", {}, EVENT, plt="a")["plt"] == "a"
    assert wire.track_event("A", {}, EVENT, "second action")["_id"] != wire.track_event("A", {}, EVENT)["_id"]


def test_the_object_id_is_24_hex_and_stable_per_message_id():
    assert wire.object_id("m-1") == hashlib.sha1(b"m-1").hexdigest()[:24]
    assert wire.object_id("m-1") != wire.object_id("m-2")


def test_an_event_without_message_id_still_gets_a_stable_id():
    event = {"type": "track", "event": "A"}
    assert wire.message_id(event) == wire.message_id(dict(event)) != wire.message_id({"type": "track", "event": "B"})


@pytest.mark.parametrize(
    "os_name, plt",
    [("iOS", "i"), ("iPadOS", "i"), ("Android", "a"), ("android", "a"), ("Mac OS X", "w"), (None, "w")],
)
def test_platform_from_context_os_name(os_name, plt):
    assert wire.platform({"context": {"os": {"name": os_name}}}) == plt


@pytest.mark.parametrize("context", [None, "x", {"os": "iOS"}, {}])
def test_platform_without_a_usable_os_is_web(context):
    assert wire.platform({"context": context}) == "w"


@pytest.mark.parametrize(
    "timestamp, seconds",
    [
        ("2026-11-24T06:00:00Z", 1795500000),
        ("2026-11-24T06:00:00.999+00:00", 1795500000),
        ("2026-11-24T07:00:00+01:00", 1795500000),
        ("2026-11-24T06:00:00", 1795500000),  # no zone: UTC, as Segment reads it
    ],
)
def test_time_is_epoch_seconds(timestamp, seconds):
    assert wire.epoch_seconds(timestamp) == seconds


@pytest.mark.parametrize("timestamp", [None, "", "yesterday", 12])
def test_an_unreadable_time_is_now(timestamp):
    now = datetime(2026, 11, 24, 6, tzinfo=UTC)
    assert wire.epoch_seconds(timestamp, now=now) == 1795500000


def test_device_context_keeps_only_1flow_keys_of_the_right_type():
    event = {"context": {
        "os": {"name": "iOS", "version": 17}, "screen": {"width": 390, "height": -1, "density": 3},
        "network": {"wifi": "yes", "carrier": "T", "cellular": True}, "app": {"version": "2.1", "namespace": "x"},
        "library": {"name": "analytics-ios", "version": "4.1.8"}, "device": "phone", "locale": "en-US",
    }}
    assert wire.device_context(event) == {
        "os": {"name": "iOS"}, "screen": {"width": 390}, "network": {"carrier": "T"}, "app": {"version": "2.1"},
        "library": {"name": "analytics-ios", "version": "4.1.8"},
    }
    assert wire.device_context({}) == {} and wire.device_context({"context": "x"}) == {}
    assert wire.device_context({"context": {"network": {"wifi": True}}}) == {"network": {"wifi": True}}


def test_bodies_validate_against_the_spec():
    context = wire.device_context(EVENT)
    assert validate_request("addUser", wire.user_body("d", context)) == []
    assert wire.user_body("d", {}) == {"user_id": "d"}
    identify = wire.identify_body("0" * 24, "u1", {"plan": "pro"})
    assert identify == {"anonymous_user_id": "0" * 24, "user_id": "u1", "log_user": True, "parameters": {"plan": "pro"}}
    assert validate_request("identifyUser", identify) == []
    track = wire.track_body("0" * 24, [wire.track_event("Order Completed", {"revenue": 9.5}, EVENT)])
    assert validate_request("trackEvents", track) == []


def test_encode_is_compact_utf8():
    body = wire.track_body("0" * 24, [{"name": "é"}, {"name": "b"}])
    assert wire.encode(body) == '{"user_id":"000000000000000000000000","events":[{"name":"é"},{"name":"b"}]}'.encode()
    assert wire.encode({"n": 2**70}) == b'{"n":1180591620717411303424}'  # beyond orjson: the stdlib encoder
