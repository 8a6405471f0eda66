"""Segment events from Faker: seeded, reproducible, fast (see ``generator``).

    from mock_1flow.events import EventGenerator, generate_events, dumps_event
    for event in EventGenerator(seed=7, types={"track": 3, "identify": 1}).events(1000): ...
"""

from .edge_cases import EDGE_CASES, EVENT_LIMIT, edge_case_kinds, event_size, minimum_problems
from .generator import DEFAULT_MIX, EventGenerator, generate_events, normalize_types
from .jsonl import dumps_event, read_jsonl, write_jsonl
from .provider import EVENT_TYPES, SegmentProvider

__all__ = [
    "DEFAULT_MIX", "EDGE_CASES", "EVENT_LIMIT", "EVENT_TYPES", "EventGenerator", "SegmentProvider", "dumps_event",
    "edge_case_kinds", "event_size", "generate_events", "minimum_problems", "normalize_types", "read_jsonl",
    "write_jsonl",
]
