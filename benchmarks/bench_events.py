"""Segment event generation: pooled ``EventGenerator`` against a naive Faker-per-field generator.

Prints events/s for both (the pooled one also with JSON serialization) and their ratio.
Targets: >= 50,000 events/s pooled on one core, >= 30x the naive one. The process is
pinned to one CPU where the OS allows it.

    python benchmarks/bench_events.py --count 200000 --seed 0

Other benchmarks: ``from mock_1flow.events.naive import bench_generation`` (or import
``bench_generation`` from this file after putting ``benchmarks/`` on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from mock_1flow.events.naive import bench_generation  # noqa: E402

__all__ = ["bench_generation"]
TARGET_RATE, TARGET_RATIO = 50_000, 30


def pin_to_one_cpu() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="pooled events per run (best of --repeat)")
    parser.add_argument("--naive-count", type=int, help="naive events (default count/20, at least 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    pinning = pin_to_one_cpu()
    figures = bench_generation(args.count, args.seed, naive_count=args.naive_count, repeat=args.repeat)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"events: {args.count:,} pooled (best of {args.repeat}), {figures['naive_count']:,} naive, "
              f"seed {args.seed}, {pinning}, nproc {figures['cpus']}")
        print(f"  pooled         {figures['pooled_events_per_s']:>10,} events/s  (pools drawn in "
              f"{figures['pooled_setup_s'] * 1000:.0f} ms)")
        print(f"  pooled + JSON  {figures['pooled_jsonl_events_per_s']:>10,} events/s")
        print(f"  naive          {figures['naive_events_per_s']:>10,} events/s")
        print(f"  ratio          {figures['ratio']:>10}x")
    ok = figures["pooled_events_per_s"] >= TARGET_RATE and figures["ratio"] >= TARGET_RATIO
    print(f"targets (>= {TARGET_RATE:,}/s, >= {TARGET_RATIO}x): {'met' if ok else 'NOT met'}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
