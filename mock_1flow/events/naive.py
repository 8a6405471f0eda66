"""The naive baseline, and the measurement that compares it with the pooled generator.

``NaiveGenerator`` calls Faker for every field of every event (``fake.segment_event``):
the obvious way to write a Faker-based generator, and the yardstick for the pooled
``EventGenerator``'s target (>= 30x faster, >= 50,000 events/s on one core).
``bench_generation`` lives here, not in ``benchmarks/``, so other benchmarks can import it.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import orjson
from faker import Faker

from .generator import EventGenerator, TypeMix, check_locale, normalize_types
from .provider import SegmentProvider


class NaiveGenerator:
    """Segment events with a fresh Faker draw for every field: realistic, and slow."""

    def __init__(self, seed: int = 0, *, locale: str = "en_US", types: TypeMix = None) -> None:
        self.fake = Faker(check_locale(locale))
        self.fake.add_provider(SegmentProvider)
        self.fake.seed_instance(seed)
        mix = normalize_types(types)
        self._types, self._weights = list(mix), list(mix.values())

    def events(self, count: int) -> Iterator[dict[str, Any]]:
        fake, choices = self.fake, self.fake.random.choices
        for _ in range(count):
            yield fake.segment_event(choices(self._types, self._weights)[0])


def _rate(count: int, run: Any, repeat: int = 1) -> float:
    """Events per second of the fastest of ``repeat`` runs of ``run(count)``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run(count)
        best = min(best, time.perf_counter() - start)
    return count / best


def bench_generation(count: int, seed: int, *, naive_count: int | None = None, repeat: int = 3) -> dict[str, Any]:
    """Events/s of the pooled generator (dicts, and dicts serialized to JSON Lines) and of the naive one.

    Pooled: the best of ``repeat`` runs of ``count`` events, streamed (not kept), after a
    warm-up that draws the pools (its time is ``pooled_setup_s``). Naive: one run of
    ``naive_count`` events (default ``count // 20``, at least 500) since it is slow.
    Runs in this process, so on one core.
    """
    setup_start = time.perf_counter()
    generator = EventGenerator(seed)
    deque(generator.events(1_000), 0)
    setup = time.perf_counter() - setup_start

    def pooled(n: int) -> None:
        deque(generator.events(n), 0)

    def pooled_jsonl(n: int) -> None:
        dumps = orjson.dumps
        deque((dumps(event) for event in generator.events(n)), 0)

    naive_count = naive_count or max(500, count // 20)
    naive = NaiveGenerator(seed)
    pooled_rate = _rate(count, pooled, repeat)
    naive_rate = _rate(naive_count, lambda n: deque(naive.events(n), 0))
    return {
        "count": count, "seed": seed, "naive_count": naive_count, "cpus": os.cpu_count(),
        "pooled_setup_s": round(setup, 4),
        "pooled_events_per_s": round(pooled_rate),
        "pooled_jsonl_events_per_s": round(_rate(count, pooled_jsonl, repeat)),
        "naive_events_per_s": round(naive_rate),
        "ratio": round(pooled_rate / naive_rate, 1),
    }
