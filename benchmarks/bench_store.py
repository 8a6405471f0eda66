"""Memory per stored event: the event store (compact, one JSON blob per track call) beside
the list of dicts it replaced, for events as ``/v3/track`` receives them.

    python benchmarks/bench_store.py --events 1000000

Bodies are parsed with orjson as the server does, so each event's strings are fresh
objects; memory is what tracemalloc sees still allocated after the events are stored
(the parsed bodies are freed, as after a request). The old layout is measured on
``--old-events`` events (default 1M too; it needs about 1 GB of memory, lower it on a
small machine: its cost per event does not depend on the count).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from datetime import datetime, timezone
from typing import Any, Callable

import orjson

from mock_1flow.server.events import EventBudget, EventLog

USER = "0123456789abcdef01234567"


def body(seq: int) -> bytes:
    events = [
        {"name": "Product Viewed", "time": 1764000000 + i, "plt": "i", "_id": f"{seq:016x}{i:08x}",
         "parameters": {"sku": f"SKU-{i}", "price": round(9.99 + i, 2)}}
        for i in range(10)
    ]
    return orjson.dumps({"user_id": USER, "events": events})


class OldStore:
    """The layout before: one dict per event in a list, ids in a set."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids: set[str] = set()

    def add(self, user_id: str, events: list[dict[str, Any]]) -> None:
        received = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for event in events:
            if event["_id"] in self.ids:
                continue
            self.ids.add(event["_id"])
            self.events.append({"_id": event["_id"], "name": event["name"], "time": event["time"],
                                "parameters": event.get("parameters", {}), "plt": event.get("plt"),
                                "user_id": user_id, "received_at": received})


def measure(count: int, make: Callable[[], Any]) -> tuple[float, float, Any]:
    bodies = [body(seq) for seq in range(count // 10)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    store = make()
    for raw in bodies:
        parsed = orjson.loads(raw)
        store.add(parsed["user_id"], parsed["events"])
        del parsed
    elapsed = time.perf_counter() - started
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used / count, elapsed, store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--old-events", type=int, default=1_000_000)
    args = parser.parse_args()
    new_bytes, new_time, log = measure(args.events, lambda: EventLog(EventBudget(args.events, max_bytes=2**62)))
    assert len(log) == args.events
    sample = next(iter(log))
    del log
    old_bytes, old_time, _ = measure(args.old_events, OldStore)
    print(f"events stored: {args.events:,} (old layout: {args.old_events:,})")
    print(f"{'layout':<34}{'bytes/event':>12}{'µs/event (traced)':>20}")
    print(f"{'compact (EventLog)':<34}{new_bytes:>12,.0f}{new_time / args.events * 1e6:>20.2f}")
    print(f"{'list of dicts (before)':<34}{old_bytes:>12,.0f}{old_time / args.old_events * 1e6:>20.2f}")
    print(f"ratio: {old_bytes / new_bytes:.1f}x less memory; target <= 300 B/event: {'met' if new_bytes <= 300 else 'NOT met'}")
    print(f"an event read back: {orjson.dumps(sample).decode()}")


if __name__ == "__main__":
    main()
