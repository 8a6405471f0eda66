"""Load a running ``mock-1flow serve`` with concurrent ``POST /us/.../v3/track`` (10 events each).

Prints requests/s, p50/p99 latency, and the journal's count against the requests sent.
Without ``--url`` it starts ``mock-1flow serve`` on a free loopback port and stops it after.

    python benchmarks/bench_track.py --seconds 10 --connections 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

KEY = "oneflow_prod_acme"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_mock(url: str | None, journal_cap: int) -> Iterator[str]:
    if url:
        yield url.rstrip("/")
        return
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_1flow", "serve", "--port", str(port), "--journal-cap", str(journal_cap)],
        stdout=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(root + "/__admin/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield root
    finally:
        process.terminate()
        process.wait(timeout=10)


def admin(root: str, path: str, method: str = "GET") -> dict:
    request = urllib.request.Request(root + "/__admin/" + path, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


MASK64 = (1 << 64) - 1  # ids: a bijection of the sequence number, hex digits and letters like a real ObjectId


def track_request(host: str, port: int, user: str, seq: int) -> bytes:
    return track_request_with_ids(host, port, user, [f"{(seq * 0x9E3779B97F4A7C15) & MASK64:016x}{i:08x}" for i in range(10)])


def track_request_with_ids(host: str, port: int, user: str, ids: list[str]) -> bytes:
    """The raw HTTP request of one SDK track call, one event per id (other benchmarks pick other ids)."""
    events = [
        {"name": "Product Viewed", "time": 1764000000 + i, "plt": "i",
         "_id": event_id, "parameters": {"sku": f"SKU-{i}", "price": 9.99 + i}}
        for i, event_id in enumerate(ids)
    ]
    body = json.dumps({"user_id": user, "events": events}).encode()
    head = (
        f"POST /us/api/2021-06-15/v3/track HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"one_flow_key: {KEY}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


async def read_response(reader: asyncio.StreamReader) -> int:
    """One HTTP/1.1 response with a Content-Length body; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    match = CONTENT_LENGTH.search(head)
    if match:
        await reader.readexactly(int(match.group(1)))
    return int(head[9:12])


async def worker(host: str, port: int, user: str, deadline: float, counter: list[int],
                 latencies: list[float], statuses: dict[int, int], seq_base: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    seq = seq_base
    try:
        while time.perf_counter() < deadline:
            payload = track_request(host, port, user, seq)
            seq += 1
            started = time.perf_counter()
            writer.write(payload)
            counter[0] += 1
            status = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def load(root: str, seconds: float, connections: int, seq_base: int = 0) -> tuple[int, list[float], dict[int, int], float]:
    parts = urlsplit(root)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    counter, latencies, statuses = [0], [], {}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(
        worker(host, port, "0123456789abcdef01234567", deadline, counter, latencies, statuses, seq_base + (n << 32))
        for n in range(connections)
    ))
    return counter[0], latencies, statuses, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running mock's root URL (default: start one)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with running_mock(args.url, journal_cap=100_000) as root:
        admin(root, "reset", "POST")
        sent, latencies, statuses, elapsed = asyncio.run(load(root, args.seconds, args.connections))
        journal = admin(root, "requests?limit=1")
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"cores: {os.cpu_count()}  connections: {args.connections}  seconds: {elapsed:.1f}")
    print(f"requests: {sent}  statuses: {statuses}")
    print(f"requests/s: {sent / elapsed:,.0f}")
    print(f"latency p50: {p(0.50):.2f} ms  p99: {p(0.99):.2f} ms  mean: {statistics.fmean(latencies) * 1000:.2f} ms")
    print(f"journal recorded: {journal['recorded']}  sent: {sent}  equal: {journal['recorded'] == sent}")
    if journal["recorded"] != sent:
        sys.exit(1)


if __name__ == "__main__":
    main()
