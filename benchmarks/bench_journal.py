"""What admin journal reads cost, and what they cost the SDK API.

Fills a fresh ``mock-1flow serve`` journal to each size (``--sizes``; each server's
``--journal-cap`` is that size, so the journal is full) with SDK ``/v3/track`` calls, then
prints the median and worst latency of ``GET /__admin/requests?limit=20``, ``?limit=1000``,
``/count`` and a filtered ``/count``; then SDK requests/s unloaded and beside four clients
that each read the journal every 250 ms (target: within 10% of unloaded), for each reader
mode: the page's poll (``since_id``, at most 200 new entries), ``?limit=20``, ``?limit=1000``.

    python benchmarks/bench_journal.py --sizes 10000,100000 --seconds 5

Run it once with ``PYTHONPATH`` at an older tree for the "before" figures.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_track  # noqa: E402
from bench_track import load, read_response, running_mock  # noqa: E402

READS = ("requests?limit=20", "requests?limit=1000", "requests/count", "requests/count?path=*/v3/track&status=200")
READERS, READ_EVERY = 4, 0.25
#: What each reader polls: the page's poll (new entries only, at most 200), a short read, a long one.
READER_MODES = {"page": "requests?since_id={last}&limit=200", "limit=20": "requests?limit=20",
                "limit=1000": "requests?limit=1000"}


def hex_track_request(host: str, port: int, user: str, seq: int) -> bytes:
    """bench_track's request with realistic event ids (24 hex digits, as ObjectIds are):
    all-decimal ids send every body down parse_json's exact-integer path, on write and read."""
    ids = [hashlib.blake2b(b"%d:%d" % (seq, i), digest_size=12).hexdigest() for i in range(10)]
    return bench_track.track_request_with_ids(host, port, user, ids)


bench_track.track_request = hex_track_request  # load() builds its requests through this name


async def get(host: str, port: int, path: str) -> float:
    """One admin GET on a fresh connection; its latency in ms (the body is read, not parsed)."""
    reader, writer = await asyncio.open_connection(host, port)
    started = time.perf_counter()
    writer.write(f"GET /__admin/{path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    status = await read_response(reader)
    elapsed = (time.perf_counter() - started) * 1000
    writer.close()
    if status != 200:
        raise SystemExit(f"GET /__admin/{path}: {status}")
    return elapsed


def last_id(root: str) -> int:
    entries = bench_track.admin(root, "requests?limit=1")["requests"]
    return entries[-1]["id"] if entries else 0


async def readers(root: str, mode: str, deadline: float, latencies: list[float]) -> None:
    parts = urlsplit(root)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    async def one() -> None:
        last = await asyncio.to_thread(last_id, root)
        while time.perf_counter() < deadline:
            latencies.append(await get(host, port, READER_MODES[mode].format(last=last)))
            if mode == "page":  # the page asks for what is newer than the newest it shows
                last = await asyncio.to_thread(last_id, root)
            await asyncio.sleep(READ_EVERY)
    await asyncio.gather(*(one() for _ in range(READERS)))


async def loaded(root: str, mode: str, seconds: float, connections: int, seq_base: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    (sent, _, _, elapsed), _ = await asyncio.gather(
        load(root, seconds, connections, seq_base), readers(root, mode, time.perf_counter() + seconds, latencies))
    return sent / elapsed, latencies


def in_process(size: int) -> None:
    """The reads' own CPU cost, in this process (no server, no sockets): steady on a busy
    machine, where the served figures swing with the load."""
    from mock_1flow.server.journal import Criteria, Journal

    journal = Journal(cap=size)
    for seq in range(size):
        raw = hex_track_request("127.0.0.1", 8080, "0123456789abcdef01234567", seq)
        journal.record(started=time.time(), duration_ms=0.2, method="POST", path="/us/api/2021-06-15/v3/track", query="",
                       region="us", project=bench_track.KEY, status=200, error=None, body=raw.split(b"\r\n\r\n", 1)[1],
                       response=b'{"success":200,"message":"ok","result":null}',
                       request_headers=(("one_flow_key", bench_track.KEY), ("content-type", "application/json")))
    calls = {
        "query(limit=20)": lambda: journal.query(limit=20),
        "query(limit=1000)": lambda: journal.query(limit=1000),
        "count()": lambda: journal.count(Criteria()),
        "count(path=*/v3/track, status=200)": lambda: journal.count(Criteria(path="*/v3/track", status=200)),
    }
    print(f"in-process, journal of {size:,} entries (CPU ms per call, best of 5)")
    for name, call in calls.items():
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            call()
            best = min(best, time.process_time() - started)
        print(f"  {name:<36} {best * 1000:8.2f} ms")


def measure(size: int, seconds: float, connections: int, modes: list[str]) -> None:
    with running_mock(None, journal_cap=size) as root:
        parts = urlsplit(root)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        # fill: each /v3/track is one entry (10 events)
        filled = 0
        while filled < size:
            sent, _, _, _ = asyncio.run(load(root, 1.0, 8, seq_base=1 << 40 | filled))
            filled += sent
        print(f"journal of {size:,} entries (full; {filled:,} requests sent to fill it)")
        for path in READS:
            times = [asyncio.run(get(host, port, path)) for _ in range(15)]
            print(f"  GET /__admin/{path:<42} median {statistics.median(times):8.2f} ms   max {max(times):8.2f} ms")
        for n, mode in enumerate(modes):
            # unloaded and loaded runs interleaved, so drift on a shared machine hits both
            sent, _, _, elapsed = asyncio.run(load(root, seconds, connections, seq_base=(2 + 2 * n) << 40))
            unloaded = sent / elapsed
            with_readers, read_times = asyncio.run(loaded(root, mode, seconds, connections, seq_base=(3 + 2 * n) << 40))
            ratio = with_readers / unloaded
            print(f"  SDK /v3/track req/s unloaded {unloaded:,.0f}; with {READERS} readers ({mode}: "
                  f"{READER_MODES[mode].format(last='N')}) every {READ_EVERY * 1000:.0f} ms {with_readers:,.0f} "
                  f"({ratio:.0%}; target >= 90%: {'met' if ratio >= 0.9 else 'NOT met'}); "
                  f"{len(read_times)} reads, median {statistics.median(read_times):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="journal sizes (each is also the cap)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--in-process", action="store_true", help="only the in-process read costs (no server)")
    parser.add_argument("--readers", default=",".join(READER_MODES), help="reader modes: " + ", ".join(READER_MODES))
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  load average: {open('/proc/loadavg').read().split()[:3]}")
    for size in (int(s) for s in args.sizes.split(",")):
        in_process(size)
        if not args.in_process:
            measure(size, args.seconds, args.connections, args.readers.split(","))


if __name__ == "__main__":
    main()
