"""The pooled generator: reproducible, spec-shaped, and realistic where it matters."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime

import jsonschema_rs
import pytest

from mock_1flow.events import (
    DEFAULT_MIX, EVENT_TYPES, EventGenerator, dumps_event, edge_case_kinds, generate_events, minimum_problems,
)
from mock_1flow.server.spec import component_schema

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}\Z")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
TIMESTAMPS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
REQUIRED = {  # the type's own fields, besides the common ones
    "identify": ("traits",), "track": ("event", "properties"), "page": ("properties",),
    "screen": ("properties",), "group": ("groupId", "traits"), "alias": ("previousId", "userId"),
}


@pytest.fixture(scope="module")
def stream():
    """5,000 events of the default mix, seed 11."""
    return generate_events(5_000, seed=11)


def jsonl(events):
    return "".join(dumps_event(event) + "\n" for event in events).encode()


def parse_iso(value):
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_same_seed_same_bytes():
    options = {"types": {"track": 3, "identify": 1, "alias": 1}, "anonymous_share": 0.4, "locale": "de_DE"}
    assert jsonl(generate_events(3_000, 42, **options)) == jsonl(generate_events(3_000, 42, **options))


def test_same_seed_same_bytes_in_edge_case_mode():
    assert jsonl(generate_events(1_000, 5, edge_cases=True)) == jsonl(generate_events(1_000, 5, edge_cases=True))


def test_different_seeds_differ():
    first, second = generate_events(50, 1), generate_events(50, 2)
    assert jsonl(first) != jsonl(second)
    assert not {e["messageId"] for e in first} & {e["messageId"] for e in second}


def test_a_stream_continues_across_calls():
    generator = EventGenerator(9)
    assert list(generator.events(30)) + list(generator.events(70)) == generate_events(100, 9)


def test_every_type_appears_with_its_required_fields(stream):
    by_type = defaultdict(list)
    for event in stream:
        by_type[event["type"]].append(event)
    assert set(by_type) == set(EVENT_TYPES)
    for event_type, events in by_type.items():
        for event in events:
            assert all(field in event for field in REQUIRED[event_type]), event
            assert minimum_problems(event) == []


def test_common_fields(stream):
    for event in stream:
        assert UUID.match(event["messageId"])
        assert event.get("userId") or event.get("anonymousId")
        assert event["integrations"].get("All") in (True, False)
        assert "library" in event["context"]


def test_timestamps_are_iso_utc_and_consistent(stream):
    for event in stream:
        values = {key: event[key] for key in TIMESTAMPS}
        assert all(ISO.match(value) for value in values.values()), values
        moments = {key: parse_iso(value) for key, value in values.items()}
        # Segment's clock-skew correction: timestamp = receivedAt - (sentAt - originalTimestamp)
        assert moments["timestamp"] == moments["receivedAt"] - (moments["sentAt"] - moments["originalTimestamp"])
        assert moments["sentAt"] >= moments["originalTimestamp"]


def test_timestamps_do_not_depend_on_the_clock():
    first = EventGenerator(4).next_event()["timestamp"]
    assert first.startswith(("2026-11", "2026-12"))  # fixed base time plus at most 30 days


def test_mobile_and_web_contexts(stream):
    platforms = Counter()
    for event in stream:
        context = event["context"]
        if "device" in context:
            platforms[context["device"]["type"]] += 1
            assert {"app", "device", "library", "locale", "network", "os", "screen", "timezone", "ip",
                    "userAgent", "location"} <= set(context)
            assert set(context["app"]) == {"name", "version", "build", "namespace"}
            assert {"id", "manufacturer", "model", "name", "type"} <= set(context["device"])
            assert set(context["network"]) == {"bluetooth", "carrier", "cellular", "wifi"}
            assert context["os"]["name"] == {"ios": "iOS", "android": "Android"}[context["device"]["type"]]
            assert "page" not in context
        elif "page" in context:
            platforms["web"] += 1
            assert set(context["page"]) == {"path", "referrer", "search", "title", "url"}
            assert context["os"]["name"] in ("Mac OS X", "Windows", "Linux", "iOS")
            assert context["library"]["name"] == "analytics.js"
            assert context["userAgent"].startswith("Mozilla/5.0")
        else:
            platforms["server"] += 1
            assert "userId" in event and "anonymousId" not in event
        if "location" in context:
            assert set(context["location"]) == {"city", "country", "latitude", "longitude"}
        if "campaign" in context:
            assert set(context["campaign"]) == {"name", "source", "medium", "term", "content"}
    assert all(platforms[name] > 100 for name in ("web", "ios", "android", "server")), platforms


def test_page_and_screen_calls(stream):
    pages = [e for e in stream if e["type"] == "page"]
    screens = [e for e in stream if e["type"] == "screen"]
    for event in pages:
        assert event["properties"] == event["context"]["page"]
        assert "device" not in event["context"]
    for event in screens:
        assert "device" in event["context"]
    for events in (pages, screens):
        nameless = sum("name" not in event for event in events) / len(events)
        assert 0.1 < nameless < 0.3  # those become page_view / screen_view


def test_identify_traits_use_segment_casing(stream):
    identifies = [e for e in stream if e["type"] == "identify"]
    reserved = Counter(key for event in identifies for key in event["traits"])
    for key in ("email", "firstName", "lastName", "name", "username", "createdAt"):
        assert reserved[key] == len(identifies)
    for key in ("phone", "title", "address", "company", "avatar", "birthday", "age", "gender", "website"):
        assert reserved[key] > 0, key
    for event in identifies:
        traits = event["traits"]
        assert traits["name"] == f"{traits['firstName']} {traits['lastName']}"
        assert "@" in traits["email"]
        if "address" in traits:
            assert set(traits["address"]) == {"city", "country", "postalCode", "state", "street"}
        if "company" in traits:
            assert set(traits["company"]) == {"name", "id", "industry", "employee_count", "plan"}


def test_track_names_and_properties(stream):
    tracks = [e for e in stream if e["type"] == "track"]
    names = Counter(e["event"] for e in tracks)
    assert {"Order Completed", "Product Viewed", "Product Added", "Signed In", "Application Opened"} <= set(names)
    for event in tracks:
        properties = event["properties"]
        assert properties
        if event["event"] == "Order Completed":
            assert {"order_id", "revenue", "currency", "total", "products"} <= set(properties)
            assert {"product_id", "sku", "name", "price", "quantity"} <= set(properties["products"][0])
        if event["event"].startswith("Application"):
            assert "device" in event["context"]
    orders = [e["properties"]["order_id"] for e in tracks if "order_id" in e["properties"]]
    assert len(set(orders)) == len(orders)


def test_group_and_alias(stream):
    for event in stream:
        if event["type"] == "group":
            assert event["groupId"] and {"name", "industry", "employees", "plan"} <= set(event["traits"])
        if event["type"] == "alias":
            assert event["userId"] and event["previousId"] and event["previousId"] != event["userId"]


@pytest.mark.parametrize("share", [0.0, 0.2, 0.5, 1.0])
def test_anonymous_share(share):
    events = generate_events(4_000, 8, anonymous_share=share, types=["track", "page", "screen", "identify"])
    anonymous = sum("userId" not in event for event in events) / len(events)
    assert anonymous == pytest.approx(share, abs=0.03)
    assert all(event.get("anonymousId") or event.get("userId") for event in events)


def test_default_mix_looks_like_traffic(stream):
    counts = Counter(event["type"] for event in stream)
    for event_type, weight in DEFAULT_MIX.items():
        assert counts[event_type] / len(stream) == pytest.approx(weight / 100, abs=0.02)
    assert counts["track"] > counts["page"] > counts["group"] > 0


def test_type_mix_mapping_and_sequence():
    weighted = Counter(e["type"] for e in generate_events(4_000, 2, types={"track": 3, "alias": 1}))
    assert set(weighted) == {"track", "alias"}
    assert weighted["track"] / 4_000 == pytest.approx(0.75, abs=0.03)
    equal = Counter(e["type"] for e in generate_events(3_000, 2, types=("identify", "group", "screen")))
    assert set(equal) == {"identify", "group", "screen"}
    assert all(count / 3_000 == pytest.approx(1 / 3, abs=0.04) for count in equal.values())


@pytest.mark.parametrize("options, message", [
    ({"types": ["track", "clicks"]}, "unknown event type"),
    ({"types": {"track": 0}}, "positive weight"),
    ({"anonymous_share": 1.5}, "between 0 and 1"),
    ({"locale": "xx_XX"}, "unknown Faker locale"),
])
def test_bad_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        EventGenerator(0, **options)


def test_devices_keep_their_ids_across_a_session(stream):
    """A device sends several events; once known, its anonymousId always pairs with one userId."""
    per_device = Counter(e["anonymousId"] for e in stream if "anonymousId" in e)
    assert sum(per_device.values()) / len(per_device) > 3
    users = defaultdict(set)
    for event in stream:
        if event.get("anonymousId") and event.get("userId") and event["type"] != "alias":
            users[event["anonymousId"]].add(event["userId"])
    assert users and all(len(ids) == 1 for ids in users.values())
    devices = defaultdict(set)
    for event in stream:
        if "device" in event["context"]:
            devices[event["anonymousId"]].add(event["context"]["device"]["id"])
    assert all(len(ids) == 1 for ids in devices.values())


def test_identify_binds_an_anonymous_device_to_a_user(stream):
    """Some devices send anonymous events first, then an identify with both ids, then known events."""
    seen_anonymous, bound = set(), 0
    for event in stream:
        anonymous_id = event.get("anonymousId")
        if anonymous_id and "userId" not in event:
            seen_anonymous.add(anonymous_id)
        elif event["type"] == "identify" and anonymous_id in seen_anonymous and event.get("userId"):
            bound += 1
    assert bound > 10


def test_locale_shapes_people_and_context():
    events = generate_events(600, 1, locale="ja_JP", types=["identify"], anonymous_share=0)
    assert all(event["context"].get("locale", "ja-JP") == "ja-JP" for event in events)  # server calls have none
    assert any(not event["traits"]["lastName"].isascii() for event in events)
    assert all(event["traits"]["email"].isascii() for event in events)


def test_events_validate_against_the_mock_spec(stream):
    validator = jsonschema_rs.Draft202012Validator(component_schema("SegmentEvent"))
    for event in stream[:1_000]:
        assert validator.is_valid(event), event


def test_normal_events_show_no_edge_case(stream):
    assert all(edge_case_kinds(event) == set() for event in stream)


def test_events_are_independent_objects():
    first, second = generate_events(2, 0, types=["track"], anonymous_share=0)
    first["context"]["library"]["name"] = "changed"
    first["properties"].clear()
    again = generate_events(2, 0, types=["track"], anonymous_share=0)
    assert second == again[1] and again[0]["context"]["library"]["name"] != "changed"
