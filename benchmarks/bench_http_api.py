"""``send`` end to end over 1Flow's HTTP API beside the SDK API (the reference), on the same
events and the same running mock: events/s and requests made.

    python benchmarks/bench_http_api.py --events 5000

Starts ``mock-1flow serve`` on a free loopback port unless ``--url`` names a running one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_track import running_mock  # noqa: E402

from mock_1flow.destination.destination import Destination  # noqa: E402
from mock_1flow.destination.settings import Settings  # noqa: E402
from mock_1flow.events import generate_events  # noqa: E402

KEY = "oneflow_prod_acme"


def run(root: str, events: list[dict], api: str, batch_size: int) -> str:
    requests.post(f"{root}/__admin/reset", timeout=10)
    destination = Destination(Settings(KEY, "us", root, api=api), batch_size=batch_size)
    started = time.perf_counter()
    report = destination.send(events)
    elapsed = time.perf_counter() - started
    made = requests.get(f"{root}/__admin/requests", params={"limit": 1}, timeout=10).json()["recorded"]
    return (f"{api:<4} batch {batch_size:>3}: {len(events) / elapsed:>8,.0f} events/s, {made:>5} requests, "
            f"sent {report.sent}, failed {report.failed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--url", help="a running mock's root URL (default: start one)")
    args = parser.parse_args()
    events = generate_events(args.events, seed=1)
    print(f"cores: {os.cpu_count()}, events: {len(events)}")
    with running_mock(args.url, journal_cap=200_000) as root:
        for api, batch_size in (("sdk", 20), ("http", 20), ("http", 500)):
            print(run(root, events, api, batch_size))


if __name__ == "__main__":
    main()
