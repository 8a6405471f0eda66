"""Mixed soak (issue 18 "Done when"): 64 connections of SDK calls, Segment ingest with a 20%
downstream fault, 1Flow's HTTP API and admin reads, with each admin and data-route latency.

Starts ``mock-1flow serve`` on a free loopback port, adds one fault (503 on 20% of the
Segment ingest's 1Flow calls: project acme, the source's project; the SDK and HTTP API
clients use project initech), and runs ``--connections`` client threads, each on its own
keep-alive connection (the classes of ``soak.py``), for ``--seconds`` (20 by default):

- 35% SDK ``POST /v3/track`` of 10 events with unique ``_id``, retried until 200;
- 25% Segment ``POST /v1/batch`` of 5 events with unique ``messageId``, retried until 200;
- 20% 1Flow HTTP API ``POST /us/v1/track`` with a unique ``message_id``, retried until 200;
- 20% admin reads: ``GET /__admin/requests?limit=20``, ``/__admin/requests/count``,
  ``/__admin/usage``, ``/__admin/health``.

First, for ``--baseline`` seconds (5 by default), the same connections send SDK calls only:
their latency is what the machine gives the data routes with nothing else running (on a
shared machine, compare the soak's figures with it). It prints each figure beside its target: requests, admin p50/p99 (p99 < 1 s), data-route
p99 (< 1 s), lost = 0 (every acknowledged event is stored, or for the Segment ingest has a
``failed``/``dropped`` delivery in ``/__admin/deliveries``) and RSS before/after. Exit 1 when
a target is missed.

    python benchmarks/bench_mixed.py            # 20 s
    python benchmarks/bench_mixed.py --seconds 60
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak import BASE, SEGMENT_KEY, SEGMENT_PROJECT, Connection, free_port, get, rss_kib  # noqa: E402

from mock_1flow.server.store import object_id  # noqa: E402  (how the HTTP API names a message_id's event)

SDK_KEY = "oneflow_sandbox_initech"  # us, enterprise: the SDK and HTTP API clients
DOWNSTREAM_FAULT = {"path": "/v3/*", "project": SEGMENT_PROJECT, "status": 503, "probability": 0.2}
ADMIN_READS = ["/__admin/requests?limit=20", "/__admin/requests/count?status=200", "/__admin/usage", "/__admin/health"]
P99_TARGET_S = 1.0
MAX_ATTEMPTS = 200
MAX_SECONDS = 600


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"admin": [], "data": []}
        self.requests = 0
        self.failed = 0  # answers neither 2xx nor retryable, or given up
        self.sdk_acked: set[str] = set()
        self.segment_acked: set[str] = set()
        self.http_acked: set[str] = set()

    def timed(self, connection: Connection, kind: str, method: str, path: str, body: bytes | None,
              headers: dict[str, str]) -> int:
        started = time.perf_counter()
        status, _ = connection.send(method, path, body, headers)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.requests += 1
            self.latency[kind].append(elapsed)
        return status


def acknowledged(results: Results, connection: Connection, path: str, body: bytes, headers: dict[str, str]) -> bool:
    for _ in range(MAX_ATTEMPTS):
        status = results.timed(connection, "data", "POST", path, body, headers)
        if 200 <= status < 300:
            return True
        if status and status != 429 and status < 500:
            break
    with results.lock:
        results.failed += 1
    return False


def worker(index: int, host: str, port: int, deadline: float, results: Results, analytic: str,
           sdk_only: bool = False) -> None:
    rng = random.Random(index)
    connection = Connection(host, port)
    sdk = {"one_flow_key": SDK_KEY, "Content-Type": "application/json"}
    segment = {"Content-Type": "application/json",
               "Authorization": "Basic " + base64.b64encode(f"{SEGMENT_KEY}:".encode()).decode()}
    http_api = {"api_key": SDK_KEY, "Content-Type": "application/json"}
    sequence = 0
    while time.monotonic() < deadline:
        roll, sequence = rng.random(), sequence + 1
        if sdk_only:
            roll *= 0.35
        if roll < 0.35:
            ids = [f"{index:04x}{sequence:012x}{i:08x}" for i in range(10)]
            events = [{"name": "mixed", "time": 1764000000, "parameters": {"i": i}, "plt": "i", "_id": _id}
                      for i, _id in enumerate(ids)]
            if acknowledged(results, connection, f"{BASE}/v3/track",
                            json.dumps({"user_id": analytic, "events": events}).encode(), sdk):
                with results.lock:
                    results.sdk_acked.update(ids)
        elif roll < 0.60:
            ids = [f"mixed-{index}-{sequence}-{i}" for i in range(5)]
            batch = [{"type": "track", "event": "Mixed", "messageId": m, "anonymousId": f"dev-{index}",
                      "properties": {"i": i}} for i, m in enumerate(ids)]
            if acknowledged(results, connection, "/v1/batch", json.dumps({"batch": batch}).encode(), segment):
                with results.lock:
                    results.segment_acked.update(ids)
        elif roll < 0.80:
            message_id = f"http-{index}-{sequence}"
            body = {"user_id": f"user-{index}", "event": "Mixed", "properties": {"n": sequence}, "message_id": message_id}
            if acknowledged(results, connection, "/us/v1/track", json.dumps(body).encode(), http_api):
                with results.lock:
                    results.http_acked.add(message_id)
        else:
            results.timed(connection, "admin", "GET", rng.choice(ADMIN_READS), None, {})
    connection.close()


def run_clients(connections: int, port: int, seconds: float, results: Results, analytic: str,
                sdk_only: bool = False) -> float:
    """``connections`` client threads for ``seconds``; returns the time they took."""
    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i, "127.0.0.1", port, started + seconds, results, analytic, sdk_only),
                                daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def lost_events(root: str, results: Results) -> tuple[int, int]:
    """(lost, failed deliveries): acknowledged events neither stored nor recorded as failed."""
    sdk_stored = {e["_id"] for e in get(root, f"/__admin/projects/{SDK_KEY}/events")["events"]}
    segment_stored = {e["_id"] for e in get(root, f"/__admin/projects/{SEGMENT_PROJECT}/events")["events"]}
    failed = {d["message_id"] for d in get(root, "/__admin/deliveries?limit=1000000")["deliveries"]
              if d["status"] in ("failed", "dropped")}
    lost = len(results.sdk_acked - sdk_stored)
    lost += sum(1 for m in results.segment_acked
                if hashlib.sha1(m.encode()).hexdigest()[:24] not in segment_stored and m not in failed)
    lost += sum(1 for m in results.http_acked if object_id(SDK_KEY, "http-message", m) not in sdk_stored)
    return lost, len(failed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help=f"run time (at most {MAX_SECONDS})")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--baseline", type=float, default=5.0,
                        help="seconds of SDK-only traffic first, on the same connections: what the machine gives "
                             "the data routes with nothing else running (0: none)")
    args = parser.parse_args()
    seconds = min(args.seconds, MAX_SECONDS)

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "mock_1flow", "serve", "--port", str(port)], stdout=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                get(root, "/__admin/health")
                break
            except OSError:
                time.sleep(0.1)
        analytic = get(root, "/__admin/provider-states", "POST", {
            "state": "a project with a device",
            "params": {"key": SDK_KEY, "region": "us", "plan": "enterprise", "device_id": "mixed-device"}})["analytic_user_id"]
        get(root, "/__admin/faults", "POST", DOWNSTREAM_FAULT)
        rss_before = rss_kib(process.pid) / 1024
        baseline = Results()
        if args.baseline > 0:
            run_clients(args.connections, port, args.baseline, baseline, analytic, sdk_only=True)
        results = Results()
        elapsed = run_clients(args.connections, port, seconds, results, analytic)
        rss_after = rss_kib(process.pid) / 1024
        results.sdk_acked |= baseline.sdk_acked  # the baseline's events must be kept too
        lost, failed_deliveries = lost_events(root, results)
        fault_hits = get(root, "/__admin/faults")["faults"][0]["hits"]
        admin, data = results.latency["admin"], results.latency["data"]
        admin_p99, data_p99 = percentile(admin, 0.99), percentile(data, 0.99)
        with open("/proc/loadavg") as load:
            loadavg = load.read().split()[:3]
        print(f"mixed soak: {seconds:g} s, {args.connections} connections, fault {DOWNSTREAM_FAULT}, load {' '.join(loadavg)}")
        print(f"{'figure':<28} {'measured':>14} {'target':>12}")
        print(f"{'requests':<28} {results.requests:>14} {'':>12}  ({results.requests / elapsed:.0f}/s)")
        if baseline.requests:
            base = baseline.latency["data"]
            print(f"{'SDK-only baseline p50/p99':<28} {f'{percentile(base, 0.5):.3f}/{percentile(base, 0.99):.3f}':>14} "
                  f"{'':>12}  ({args.baseline:g} s before, {baseline.requests / args.baseline:.0f}/s: the machine's share)")
        print(f"{'admin p50 (s)':<28} {percentile(admin, 0.5):>14.3f} {'':>12}  ({len(admin)} reads)")
        print(f"{'admin p99 (s)':<28} {admin_p99:>14.3f} {'< 1':>12}")
        print(f"{'data-route p99 (s)':<28} {data_p99:>14.3f} {'< 1':>12}  ({len(data)} calls, p50 {percentile(data, 0.5):.3f})")
        print(f"{'lost events':<28} {lost:>14} {'0':>12}  (acked: sdk {len(results.sdk_acked)}, segment "
              f"{len(results.segment_acked)}, http {len(results.http_acked)}; downstream faults fired {fault_hits}, "
              f"failed deliveries {failed_deliveries})")
        print(f"{'gave up / refused':<28} {results.failed:>14} {'0':>12}")
        print(f"{'RSS before -> after (MiB)':<28} {f'{rss_before:.0f} -> {rss_after:.0f}':>14} {'bounded':>12}")
        met = admin_p99 < P99_TARGET_S and data_p99 < P99_TARGET_S and lost == 0 and results.failed == 0
        return 0 if met else 1
    finally:
        process.terminate()
        process.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
