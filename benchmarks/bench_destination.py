"""Events/s for generation (pooled and naive), mapping alone, and end-to-end ``send``.

    python benchmarks/bench_destination.py --events 20000

End to end runs the destination against ``mock-1flow serve`` (started here on a free
loopback port unless ``--url`` names a running one).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_track import running_mock  # noqa: E402

from mock_1flow.destination import wire  # noqa: E402
from mock_1flow.destination.actions import TRACK, validate_payload  # noqa: E402
from mock_1flow.destination.mapping import load_subscriptions, resolve  # noqa: E402
from mock_1flow.destination.destination import Destination  # noqa: E402
from mock_1flow.destination.errors import PayloadValidationError  # noqa: E402
from mock_1flow.destination.settings import Settings  # noqa: E402
from mock_1flow.events import generate_events  # noqa: E402
from mock_1flow.events.naive import bench_generation  # noqa: E402


def mapping_rate(events: list[dict]) -> float:
    """Trigger matching, mapping resolution, payload validation and the 1Flow wire body, no HTTP."""
    subscriptions = load_subscriptions()
    started = time.perf_counter()
    for event in events:
        for subscription in subscriptions:
            if not subscription.matches(event):
                continue
            payload = resolve(subscription.mapping, event)
            try:
                validate_payload(subscription.partner_action, payload)
            except PayloadValidationError:
                continue
            if subscription.partner_action == TRACK:
                wire.track_event(payload["event_name"], payload.get("properties") or {}, event)
        wire.device_context(event)
    return len(events) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--url", help="a running mock's root URL (default: start one)")
    args = parser.parse_args()
    generation = bench_generation(args.events, 1)
    print(f"cores: {os.cpu_count()}")
    print("generation: " + ", ".join(f"{k}: {v:,.0f}" if isinstance(v, float) else f"{k}: {v}" for k, v in generation.items()))
    events = generate_events(args.events, seed=1)
    print(f"mapping alone: {mapping_rate(events):,.0f} events/s")
    with running_mock(args.url, journal_cap=200_000) as root:
        destination = Destination(Settings("oneflow_prod_acme", "us", root, "mobile"), batch_size=20, concurrency=16)
        started = time.perf_counter()
        report = destination.send(events)
        elapsed = time.perf_counter() - started
    print(f"end-to-end send: {len(events) / elapsed:,.0f} events/s ({elapsed:.1f} s) outcomes: {report.summary()}")


if __name__ == "__main__":
    main()
