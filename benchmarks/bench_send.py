"""``send`` end to end, events/s: the pooled, concurrent path beside the old one, same run.

    python benchmarks/bench_send.py --events 50000

Starts ``mock-1flow serve`` on a free loopback port (unless ``--url`` names a running mock),
generates Faker events, and sends them through the destination twice, resetting the mock
in between:

- reference (the old path): a ``requests`` session, one request at a time, 20 events per
  ``/v3/track`` request;
- new: libcurl's multi interface driven from the sending thread (keep-alive connections,
  ``--concurrency`` requests in flight at once, each device's in order), a device's whole
  queue per request, with ``mock-1flow send``'s rarer garbage collections.

Both runs must end with the same outcomes and the same events stored; the script says so.
It also prints the CPU each side spent per event (the client: this process; the server:
the mock's process tree, from /proc, when the script started it) and whether the new path
reached ``--target`` events/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_track import admin, running_mock  # noqa: E402
from compare import cpu_seconds  # noqa: E402

import requests  # noqa: E402

from mock_1flow.cli.send import fewer_collections  # noqa: E402
from mock_1flow.destination.client import OneFlowClient  # noqa: E402
from mock_1flow.destination.destination import Destination  # noqa: E402
from mock_1flow.destination.settings import Settings  # noqa: E402
from mock_1flow.events import generate_events  # noqa: E402

KEY = "oneflow_prod_acme"


def server_cpu(started_here: bool) -> float | None:
    """CPU seconds of the mock this script started (its process tree less this process)."""
    return cpu_seconds(os.getpid()) - time.process_time() if started_here else None


def run(root: str, events: list[dict], profile: str, started_here: bool, session: requests.Session | None = None,
        gc_tuned: bool = False, **options) -> tuple[float, dict, int, str]:
    """Events/s of one send, its summary, how many events the mock stored, and CPU µs per event."""
    admin(root, "reset", "POST")
    settings = Settings(KEY, "us", root, profile)
    client = OneFlowClient(settings, session=session, pool_size=options.get("concurrency", 1))
    destination = Destination(settings, client=client, **options)
    server_before, client_before = server_cpu(started_here), time.process_time()
    started = time.perf_counter()
    if gc_tuned:
        with fewer_collections():
            report = destination.send(events)
    else:
        report = destination.send(events)
    elapsed = time.perf_counter() - started
    client_us = (time.process_time() - client_before) * 1e6 / len(events)
    server_after = server_cpu(started_here)
    destination.close()
    stored = admin(root, f"projects/{KEY}/events")
    server_us = "n/a" if server_after is None else f"{(server_after - server_before) * 1e6 / len(events):.0f}"
    cpu = f"CPU per event: client {client_us:.0f} µs, server {server_us} µs"
    return len(events) / elapsed, report.summary(), stored.get("total", len(stored.get("events", []))), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", default="web")
    parser.add_argument("--url", help="a running mock's root URL (default: start one)")
    parser.add_argument("--target", type=float, default=20_000, help="events/s the new path should reach")
    args = parser.parse_args()
    events = generate_events(args.events, seed=1)
    print(f"cores: {os.cpu_count()}, events: {len(events)}, profile: {args.profile}, "
          f"devices: {len({e.get('anonymousId') or e.get('userId') for e in events})}")
    with running_mock(args.url, journal_cap=10_000) as root:
        here = args.url is None
        reference = run(root, events, args.profile, here, session=requests.Session(), batch_size=20, concurrency=1)
        new = run(root, events, args.profile, here, gc_tuned=True, concurrency=args.concurrency)
    print(f"reference (requests session, sequential, 20 events per request): {reference[0]:,.0f} events/s; "
          f"{reference[3]}")
    print(f"new (libcurl multi, whole queue per device, {args.concurrency} requests in flight, send's GC thresholds): "
          f"{new[0]:,.0f} events/s "
          f"({new[0] / reference[0]:.1f}x); {new[3]}")
    print(f"target {args.target:,.0f} events/s: {'met' if new[0] >= args.target else 'NOT met'}")
    print(f"outcomes: {new[1]}")
    same = reference[1] == new[1] and reference[2] == new[2]
    print(f"same outcomes and stored events in both runs: {same} (stored: {reference[2]} / {new[2]})")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
