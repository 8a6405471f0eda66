"""``serve --state-file`` and the state document at scale, beside issue 18's targets.

Prints: start-up and clean stop with N events in the file (targets: start < 5 s), SDK p99
during two concurrent ``GET /__admin/state`` (target < 1 s) and the server's RSS growth,
the acknowledged writes a SIGKILL loses (target: none acknowledged more than 1 s before
the kill), and what one logged change costs as a line in the file vs a row in SQLite (WAL).

    python benchmarks/bench_state.py --events 400000
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from mock_1flow.server.config import MockConfig
from mock_1flow.server.runtime import Runtime
from mock_1flow.server.state.durable import StateFile

KEY = "oneflow_prod_acme"
TRACK = "/us/api/2021-06-15/v3/track"
USER = "5f1e2d3c4b5a69788796a5b4"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def event(number: int) -> dict:
    return {"name": "Order Completed", "time": 1764000000, "parameters": {"n": number, "total": 12.5}, "plt": "i",
            "_id": hashlib.sha1(str(number).encode()).hexdigest()[:24]}  # object ids: hex, as the SDKs send


def make_file(path: Path, events: int) -> None:
    runtime = Runtime.build(MockConfig())
    state = runtime.store.state(KEY)
    for call in range(events // 10):
        state.track(hashlib.sha1(str(call % 1000).encode()).hexdigest()[:24], [event(call * 10 + n) for n in range(10)])
    StateFile(path, runtime.store, runtime.state_parts, runtime.regions)._write_snapshot_sync()


def request(port: int, method: str, path: str, body: dict | None = None, timeout: float = 120) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=data, headers={"one_flow_key": KEY, "Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def start(port: int, path: Path) -> tuple[subprocess.Popen, float]:
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "mock_1flow", "serve", "--port", str(port), "--state-file", str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        assert process.poll() is None, "the mock exited"
        try:
            if request(port, "GET", "/__admin/health", timeout=1)[0] == 200:
                return process, time.monotonic() - began
        except OSError:
            time.sleep(0.02)


def cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time (user + system) the server and its worker have used: on a shared machine the
    start-up's wall time mostly measures the other processes, this does not."""
    ticks = 0
    for pid in [process.pid, *children(process.pid)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(process: subprocess.Popen) -> float:
    total = 0
    for pid in [process.pid, *children(process.pid)]:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def export_stall(port: int, process: subprocess.Popen) -> tuple[float, float, float]:
    """SDK p99 (ms) while two exports run, their time (s), RSS growth (MB)."""
    before = rss_mb(process)
    peak = [before]
    done = threading.Event()

    def export() -> None:
        status, _ = request(port, "GET", "/__admin/state")
        assert status == 200

    exports = [threading.Thread(target=export) for _ in range(2)]
    began = time.monotonic()
    for thread in exports:
        thread.start()
    latencies = []
    number = 10**9
    while any(thread.is_alive() for thread in exports):
        sent = time.perf_counter()
        request(port, "POST", TRACK, {"user_id": USER, "events": [event(number)]})
        latencies.append(time.perf_counter() - sent)
        number += 1
        peak.append(rss_mb(process))
    took = time.monotonic() - began
    done.set()
    latencies.sort()
    return latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0, took, max(peak) - before


def sigkill_loss(port: int, process: subprocess.Popen, path: Path) -> tuple[int, int, float]:
    """Writes for about 3 s, SIGKILL, restart: (acknowledged, lost more than 1 s before the
    kill, age in s of the oldest lost acknowledgement or 0)."""
    acked: list[tuple[float, str]] = []
    stop = time.monotonic() + 3
    number = 2 * 10**9
    while time.monotonic() < stop:
        status, _ = request(port, "POST", TRACK, {"user_id": USER, "events": [event(number)]})
        if status == 200:
            acked.append((time.monotonic(), event(number)["_id"]))
        number += 1
    killed = time.monotonic()
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.05)
    process, _ = start(port, path)
    try:
        _, body = request(port, "GET", f"/__admin/projects/{KEY}/events?user_id={USER}")
        kept = {stored["_id"] for stored in json.loads(body)["events"]}
    finally:
        process.terminate()
        process.wait()
    lost = [(at, event_id) for at, event_id in acked if event_id not in kept]
    old = [at for at, _ in lost if killed - at > 1.0]
    return len(acked), len(old), (killed - min(at for at, _ in lost)) if lost else 0.0


def log_vs_sqlite(records: int = 100_000) -> tuple[float, float]:
    """µs per change on the request's path: a line queued (the writer thread's cost included)
    vs a row inserted into SQLite in WAL mode (synchronous=NORMAL, one commit per 0.2 s batch)."""
    line = b'["t","oneflow_prod_acme","' + USER.encode() + b'",1764000000.5,' + json.dumps([event(1)]).encode() + b"]\n"
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        queue: deque[bytes] = deque()
        with open(Path(folder) / "log", "ab") as out:
            for n in range(records):
                queue.append(line)
                if n % 2000 == 0:
                    out.write(b"".join(queue))
                    queue.clear()
            out.write(b"".join(queue))
            out.flush()
            os.fsync(out.fileno())
        log_cost = (time.perf_counter() - began) / records * 1e6
        database = sqlite3.connect(Path(folder) / "db")
        database.execute("pragma journal_mode=wal")
        database.execute("pragma synchronous=normal")
        database.execute("create table ops (id integer primary key, record blob)")
        began = time.perf_counter()
        for n in range(records):
            database.execute("insert into ops (record) values (?)", (line,))
            if n % 2000 == 0:
                database.commit()
        database.commit()
        sqlite_cost = (time.perf_counter() - began) / records * 1e6
        database.close()
    return log_cost, sqlite_cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "state.log"
        made = time.monotonic()
        make_file(path, args.events)
        print(f"state file: {args.events:,} events, {path.stat().st_size / 1e6:.0f} MB (made in {time.monotonic() - made:.1f} s)")
        port = free_port()
        process, took = start(port, path)
        print(f"start-up (serve until /__admin/health answers): {took:.2f} s   target < 5 s "
              f"(CPU {cpu_seconds(process):.2f} s; load {open('/proc/loadavg').read().split()[0]})")
        p99, export_time, grew = export_stall(port, process)
        print(f"two concurrent GET /__admin/state: {export_time:.1f} s; SDK p99 meanwhile {p99:.0f} ms   target < 1000 ms; "
              f"RSS +{grew:.0f} MB")
        began = time.monotonic()
        process.terminate()
        process.wait()
        print(f"clean stop (SIGTERM until exit): {time.monotonic() - began:.2f} s   (was 5.3 s)")
        process, _ = start(port, path)
        acked, old, oldest = sigkill_loss(port, process, path)
        print(f"SIGKILL: {acked:,} writes acknowledged; lost and acknowledged over 1 s before the kill: {old}   target 0; "
              f"oldest lost acknowledgement {oldest:.2f} s before the kill")
    log_cost, sqlite_cost = log_vs_sqlite()
    print(f"one change logged: {log_cost:.2f} µs as a line in the file, {sqlite_cost:.2f} µs as a SQLite (WAL) row")
    print(f"load average: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
