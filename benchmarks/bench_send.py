"""``send`` end to end, events/s: the pooled, concurrent path beside the old one, same run.

    python benchmarks/bench_send.py --events 50000

Starts ``mock-1flow serve`` on a free loopback port (unless ``--url`` names a running mock),
generates Faker events, and sends them through the destination twice, resetting the mock
in between:

- reference (the old path): a ``requests`` session, one request at a time, 20 events per
  ``/v3/track`` request;
- new: urllib3's keep-alive connection pool, a device's whole queue per request,
  ``--concurrency`` devices in flight at once.

Both runs must end with the same outcomes and the same events stored; the script says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_track import admin, running_mock  # noqa: E402

import requests  # noqa: E402

from mock_1flow.destination.client import OneFlowClient  # noqa: E402
from mock_1flow.destination.destination import Destination  # noqa: E402
from mock_1flow.destination.settings import Settings  # noqa: E402
from mock_1flow.events import generate_events  # noqa: E402

KEY = "oneflow_prod_acme"


def run(root: str, events: list[dict], profile: str, session: requests.Session | None = None,
        **options) -> tuple[float, dict, int]:
    """Events/s of one send, its summary, and how many events the mock stored."""
    admin(root, "reset", "POST")
    settings = Settings(KEY, "us", root, profile)
    client = OneFlowClient(settings, session=session, pool_size=options.get("concurrency", 1))
    destination = Destination(settings, client=client, **options)
    started = time.perf_counter()
    report = destination.send(events)
    elapsed = time.perf_counter() - started
    destination.close()
    stored = admin(root, f"projects/{KEY}/events")
    return len(events) / elapsed, report.summary(), stored.get("total", len(stored.get("events", [])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", default="web")
    parser.add_argument("--url", help="a running mock's root URL (default: start one)")
    args = parser.parse_args()
    events = generate_events(args.events, seed=1)
    print(f"cores: {os.cpu_count()}, events: {len(events)}, profile: {args.profile}, "
          f"devices: {len({e.get('anonymousId') or e.get('userId') for e in events})}")
    with running_mock(args.url, journal_cap=10_000) as root:
        reference = run(root, events, args.profile, session=requests.Session(), batch_size=20, concurrency=1)
        new = run(root, events, args.profile, concurrency=args.concurrency)
    print(f"reference (requests session, sequential, 20 events per request): {reference[0]:,.0f} events/s")
    print(f"new (whole queue per device, {args.concurrency} devices in flight): {new[0]:,.0f} events/s "
          f"({new[0] / reference[0]:.1f}x)")
    print(f"outcomes: {new[1]}")
    same = reference[1] == new[1] and reference[2] == new[2]
    print(f"same outcomes and stored events in both runs: {same} (stored: {reference[2]} / {new[2]})")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
