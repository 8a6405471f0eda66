"""Soak: N minutes of mixed traffic with faults and hostile requests at 64 connections.

Starts ``mock-1flow serve`` on a free loopback port (or takes ``--url``), injects faults
(503, 429 and dropped connections on the SDK API, on the Segment ingest's 1Flow calls and
on ``/v1/batch``), and runs ``--connections`` client threads, each on its own keep-alive
connection, mixing:

- SDK ``POST /v3/track`` batches of 10 events with unique ``_id`` (project initech),
  retried on 429/5xx/dropped connections until answered 200, as the SDKs do;
- Segment ``POST /v1/batch`` of 5 events with unique ``messageId`` (source segment_wk_acme
  -> project acme), retried the same way, as segment-analytics-python does;
- hostile requests from ``tests/reliability/hostile.py`` (deep, huge, non-finite, surrogates,
  bad encodings, odd methods and headers), minus the admin writes that would wipe state;
- admin reads (journal, usage).

It prints the server's RSS (the serve process and its worker) every ``--every`` seconds
with the journal and store sizes from ``GET /__admin/usage``, and at the end: requests by
kind and status, 5xx that no fault explains (must be 0), and events lost (acknowledged but
not stored) and duplicated (stored twice) for both paths (must be 0).

    python benchmarks/soak.py --minutes 1
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.reliability.hostile import generate  # noqa: E402

SDK_KEY = "oneflow_sandbox_initech"
SEGMENT_KEY = "segment_wk_acme"
SEGMENT_PROJECT = "oneflow_prod_acme"
BASE = "/us/api/2021-06-15"
FAULTS = [
    {"path": "/v3/track", "status": 503, "probability": 0.05},
    {"path": "/v3/*", "status": 429, "retry_after": 0, "probability": 0.03},
    {"path": "/v3/*", "drop_connection": True, "probability": 0.02},
    {"path": "/v1/batch", "status": 503, "probability": 0.03},
]
EXPLAINED_5XX = {"injected_fault", "delivery_failed"}
MAX_ATTEMPTS = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kib(pid: int) -> int:
    """RSS of ``pid`` and its children (granian's worker), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class Connection:
    """One keep-alive connection that reconnects after the server (or a fault) drops it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body); status 0 when the connection broke."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
            if response.will_close:
                self.close()
            return response.status, data
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, b""

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.unexplained: list[tuple[str, int, bytes]] = []
        self.sdk_acked: set[str] = set()
        self.segment_acked: set[str] = set()
        self.gave_up = 0

    def note(self, kind: str, status: int, body: bytes) -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1
            if status >= 500:
                try:
                    parsed = json.loads(body)
                    code = parsed.get("error") or parsed.get("code")
                except ValueError:
                    code = None
                if code not in EXPLAINED_5XX:
                    self.unexplained.append((kind, status, body[:200]))


def until_acknowledged(connection: Connection, tally: Tally, kind: str, path: str, body: bytes,
                       headers: dict[str, str]) -> bool:
    """Retry on 429/5xx/dropped connections, as a client that wants at-least-once does."""
    for _ in range(MAX_ATTEMPTS):
        status, reply = connection.send("POST", path, body, headers)
        tally.note(kind, status, reply)
        if 200 <= status < 300:
            return True
        if status and status != 429 and status < 500:
            return False
        time.sleep(0.002)
    with tally.lock:
        tally.gave_up += 1
    return False


def worker(index: int, host: str, port: int, deadline: float, tally: Tally, analytic: str, hostile: list) -> None:
    rng = random.Random(index)
    connection = Connection(host, port)
    sdk_headers = {"one_flow_key": SDK_KEY, "Content-Type": "application/json"}
    segment_headers = {"Content-Type": "application/json",
                       "Authorization": "Basic " + base64.b64encode(f"{SEGMENT_KEY}:".encode()).decode()}
    sequence = 0
    while time.monotonic() < deadline:
        roll = rng.random()
        sequence += 1
        if roll < 0.45:
            ids = [f"{index:04x}{sequence:012x}{i:08x}" for i in range(10)]
            events = [{"name": "soak", "time": 1764000000, "parameters": {"i": i}, "plt": "i", "_id": _id}
                      for i, _id in enumerate(ids)]
            body = json.dumps({"user_id": analytic, "events": events}).encode()
            if until_acknowledged(connection, tally, "sdk", f"{BASE}/v3/track", body, sdk_headers):
                with tally.lock:
                    tally.sdk_acked.update(ids)
        elif roll < 0.70:
            ids = [f"soak-{index}-{sequence}-{i}" for i in range(5)]
            batch = [{"type": "track", "event": "Soak", "messageId": m, "anonymousId": f"dev-{index}-{i % 2}",
                      "properties": {"i": i}} for i, m in enumerate(ids)]
            body = json.dumps({"batch": batch}).encode()
            if until_acknowledged(connection, tally, "segment", "/v1/batch", body, segment_headers):
                with tally.lock:
                    tally.segment_acked.update(ids)
        elif roll < 0.92:
            request = hostile[rng.randrange(len(hostile))]
            status, reply = connection.send(request.method, request.path, request.body, request.headers)
            tally.note("hostile", status, reply)
        else:
            path = rng.choice(["/__admin/requests?limit=1", "/__admin/usage", "/__admin/health"])
            status, reply = connection.send("GET", path, None, {})
            tally.note("admin", status, reply)
    connection.close()


def safe_hostile(count: int) -> list:
    """Hostile requests, without the admin writes that would wipe what the soak checks
    (PUT /__admin/state, DELETE of faults, journal or projects, reset)."""
    kept = []
    for request in generate(count, seed=7):
        if request.path.startswith("/__admin") and request.method != "GET" and not (
                request.method == "POST" and request.path.startswith(("/__admin/faults", "/__admin/provider-states"))):
            continue
        kept.append(request)
    return kept


def get(root: str, path: str, method: str = "GET", body: dict | None = None) -> dict:
    parts = urlsplit(root)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return payload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--url", help="a running mock (its RSS is not sampled)")
    args = parser.parse_args()

    process = None
    if args.url:
        root = args.url.rstrip("/")
    else:
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "mock_1flow", "serve", "--port", str(port)],
                                   stdout=subprocess.DEVNULL)
        root = f"http://127.0.0.1:{port}"
    parts = urlsplit(root)
    try:
        for _ in range(200):
            try:
                get(root, "/__admin/health")
                break
            except OSError:
                time.sleep(0.1)
        get(root, "/__admin/reset", "POST", {})
        analytic = get(root, "/__admin/provider-states", "POST", {
            "state": "a project with a device",
            "params": {"key": SDK_KEY, "region": "us", "plan": "enterprise", "device_id": "soak-device"}})["analytic_user_id"]
        for fault in FAULTS:
            get(root, "/__admin/faults", "POST", fault)
        hostile = safe_hostile(2000)
        tally = Tally()
        started = time.monotonic()
        deadline = started + args.minutes * 60
        threads = [threading.Thread(target=worker, args=(i, parts.hostname, parts.port, deadline, tally, analytic, hostile),
                                    daemon=True) for i in range(args.connections)]
        for thread in threads:
            thread.start()
        print(f"soak: {args.minutes:g} min, {args.connections} connections, faults: {FAULTS}")
        print(f"{'t (s)':>6} {'RSS MiB':>8} {'requests':>9} {'journal entries':>16} {'journal MiB':>12} "
              f"{'events':>9} {'events MiB':>11} {'ledger':>7}")
        while any(thread.is_alive() for thread in threads):
            time.sleep(max(0.1, min(args.every, deadline - time.monotonic())))
            if time.monotonic() >= deadline - 0.5:  # the last sample: after the clients finish
                for thread in threads:
                    thread.join()
            usage = get(root, "/__admin/usage")
            rss = rss_kib(process.pid) / 1024 if process else float("nan")
            with tally.lock:
                sent = sum(tally.statuses.values())
            print(f"{time.monotonic() - started:6.0f} {rss:8.1f} {sent:9d} {usage['journal']['entries']:16d} "
                  f"{(usage['journal']['bytes'] or 0) / 2**20:12.1f} {usage['events']['stored']:9d} "
                  f"{usage['events']['bytes'] / 2**20:11.1f} {usage['deliveries']['entries']:7d}", flush=True)
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        get(root, "/__admin/faults", "DELETE")

        sdk_stored = [e["_id"] for e in get(root, f"/__admin/projects/{SDK_KEY}/events")["events"]]
        segment_stored = [e["_id"] for e in get(root, f"/__admin/projects/{SEGMENT_PROJECT}/events")["events"]]
        segment_expected = {hashlib.sha1(m.encode()).hexdigest()[:24] for m in tally.segment_acked}
        lost = len(tally.sdk_acked - set(sdk_stored)) + len(segment_expected - set(segment_stored))
        duplicated = (len(sdk_stored) - len(set(sdk_stored))) + (len(segment_stored) - len(set(segment_stored)))
        usage = get(root, "/__admin/usage")
        total = sum(tally.statuses.values())
        print(f"\nrequests: {total} in {elapsed:.0f} s ({total / elapsed:.0f}/s)")
        for kind in ("sdk", "segment", "hostile", "admin"):
            row = {status: n for (k, status), n in sorted(tally.statuses.items()) if k == kind}
            print(f"  {kind:8} {row}")
        print(f"events acknowledged: sdk {len(tally.sdk_acked)}, segment {len(tally.segment_acked)}; "
              f"stored: {usage['events']['stored']} ({usage['events']['bytes'] / 2**20:.1f} MiB, dropped by cap "
              f"{usage['events']['dropped']})")
        print(f"journal: {usage['journal']['entries']} entries, {(usage['journal']['bytes'] or 0) / 2**20:.1f} MiB "
              f"(cap {(usage['journal']['max_bytes'] or 0) / 2**20:.0f} MiB), recorded {usage['journal']['recorded']}, "
              f"dropped {usage['journal']['dropped']}")
        print(f"5xx not explained by a fault: {len(tally.unexplained)} {tally.unexplained[:3]}")
        print(f"gave up after {MAX_ATTEMPTS} attempts: {tally.gave_up}")
        print(f"events lost: {lost}   duplicated: {duplicated}")
        return 1 if lost or duplicated or tally.unexplained else 0
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
