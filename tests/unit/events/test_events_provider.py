"""``SegmentProvider`` on a plain Faker, and the naive generator built on it."""

from __future__ import annotations

from collections import Counter

from faker import Faker

from mock_1flow.events import EVENT_TYPES, SegmentProvider, minimum_problems
from mock_1flow.events.naive import NaiveGenerator


def fake(seed: int, locale: str = "en_US") -> Faker:
    instance = Faker(locale)
    instance.add_provider(SegmentProvider)
    instance.seed_instance(seed)
    return instance


def test_provider_is_seeded_by_faker():
    assert fake(3).segment_event("track") == fake(3).segment_event("track")
    assert fake(3).segment_event("track") != fake(4).segment_event("track")


def test_provider_pieces():
    f = fake(1)
    for platform in ("web", "ios", "android"):
        profile = f.segment_device_profile(platform)
        assert {"library", "os", "screen", "userAgent"} <= set(profile)
        assert ("device" in profile) == (platform != "web")
    assert set(f.segment_company()) == {"name", "id", "industry", "employee_count", "plan"}
    assert {"product_id", "sku", "category", "name", "brand", "variant", "price", "url", "image_url"} == \
        set(f.segment_product())
    place = f.segment_location()
    assert -90 <= place["latitude"] <= 90 and -180 <= place["longitude"] <= 180 and "/" in place["timezone"]
    order = f.segment_track_properties("Order Completed")
    assert round(sum(p["price"] * p["quantity"] for p in order["products"]), 2) == order["subtotal"]


def test_naive_generator_makes_the_same_kind_of_events():
    events = list(NaiveGenerator(2).events(300))
    assert set(Counter(event["type"] for event in events)) == set(EVENT_TYPES)
    for event in events:
        assert minimum_problems(event) == []
        assert {"messageId", "context", "integrations", "timestamp", "sentAt", "originalTimestamp"} <= set(event)
    assert [e["messageId"] for e in NaiveGenerator(2).events(5)] == [e["messageId"] for e in events[:5]]
