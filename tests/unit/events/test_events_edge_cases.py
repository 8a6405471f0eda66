"""Edge-case mode: each kind shows up, sizes sit where they should, the rest stays valid."""

from __future__ import annotations

from collections import Counter
from random import Random

import pytest

from mock_1flow.events import (
    EDGE_CASES, EVENT_LIMIT, EventGenerator, edge_case_kinds, event_size, generate_events, minimum_problems,
)
from mock_1flow.events.edge_cases import DEEP_NESTING_DEPTH, INVALID_KINDS, NEAR_LIMIT_MARGIN, apply



@pytest.fixture(scope="module")
def edge_stream():
    """2,000 events in edge-case mode, seed 3."""
    return generate_events(2_000, seed=3, edge_cases=True)

def kinds_of(events):
    return Counter(kind for event in events for kind in edge_case_kinds(event))


def depth(value):
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def test_every_kind_appears_in_2000_events(edge_stream):
    counts = kinds_of(edge_stream)
    assert set(counts) == set(EDGE_CASES), counts
    assert all(counts[kind] >= 10 for kind in EDGE_CASES), counts


def test_about_half_the_events_are_edge_cases_and_few_are_invalid(edge_stream):
    kinds = [edge_case_kinds(event) for event in edge_stream]
    assert 0.4 < sum(bool(k) for k in kinds) / len(kinds) < 0.6
    invalid = sum(bool(k & set(INVALID_KINDS)) for k in kinds) / len(kinds)
    assert 0.01 < invalid < 0.08


def test_only_the_documented_kinds_break_segments_minimum(edge_stream):
    for event in edge_stream:
        kinds = edge_case_kinds(event)
        if "invalid" not in kinds:
            assert minimum_problems(event) == [], event
        if not kinds & set(INVALID_KINDS):
            assert event_size(event) <= EVENT_LIMIT


def test_near_and_over_limit_sizes(edge_stream):
    sizes = [event_size(event) for event in edge_stream]
    near = [size for size in sizes if size >= EVENT_LIMIT - NEAR_LIMIT_MARGIN]
    assert near, "no event near the limit"
    under = [size for size in near if size <= EVENT_LIMIT]
    over = [size for size in near if size > EVENT_LIMIT]
    assert under and over
    assert all(EVENT_LIMIT - NEAR_LIMIT_MARGIN <= size < EVENT_LIMIT for size in under)
    assert all(EVENT_LIMIT < size <= EVENT_LIMIT + NEAR_LIMIT_MARGIN for size in over)
    assert max(under) > EVENT_LIMIT - 64  # some land just under 32,768 bytes


def test_size_is_utf8_bytes_of_the_compact_line(edge_stream):
    from mock_1flow.events import dumps_event

    for event in edge_stream[:300]:
        assert event_size(event) == len(dumps_event(event).encode("utf-8"))


def test_deep_nesting_reaches_depth_20(edge_stream):
    deep = [event for event in edge_stream if "deep" in edge_case_kinds(event)]
    bag = deep[0].get("properties", deep[0].get("traits", deep[0].get("context")))
    assert depth(bag["nested"]) == DEEP_NESTING_DEPTH


def test_unicode_nulls_numbers_as_strings_missing_fields(edge_stream):
    by_kind = {kind: [e for e in edge_stream if kind in edge_case_kinds(e)] for kind in EDGE_CASES}
    assert any(any(ord(ch) > 0xFFFF for ch in str(e)) for e in by_kind["unicode"])
    assert any(e["type"] == "track" and not e["event"].isascii() for e in by_kind["unicode"])
    assert any(None in e.get("properties", e.get("traits", {})).values() for e in by_kind["nulls"])
    assert any(isinstance(e.get("properties", {}).get("revenue"), str) for e in by_kind["numeric_strings"])
    assert any("context" not in e for e in by_kind["missing"])
    assert any("timestamp" not in e for e in by_kind["missing"])
    assert all(e.get("properties", e.get("traits")) == {} for e in by_kind["empty"])


def test_invalid_events_are_the_documented_ones(edge_stream):
    reasons = Counter()
    for event in edge_stream:
        for problem in minimum_problems(event):
            reasons[problem] += 1
    assert set(reasons) <= {"neither userId nor anonymousId", "track without event", "group without groupId",
                            "alias without previousId"}
    assert reasons["track without event"] > 0


@pytest.mark.parametrize("kind", EDGE_CASES)
@pytest.mark.parametrize("event_type", ["identify", "track", "page", "screen", "group", "alias"])
def test_apply_gives_each_kind_to_each_type(kind, event_type):
    """Every kind fits every type, except that alias has no properties/traits to empty or stringify."""
    event = EventGenerator(1, types=[event_type], anonymous_share=0).next_event()
    kinds = edge_case_kinds(apply(kind, event, Random(0)))
    expected = "missing" if event_type == "alias" and kind in ("empty", "numeric_strings") else kind
    assert expected in kinds
