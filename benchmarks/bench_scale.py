"""The mock with its state in Redis at 1, 2 (4, 8 where the cores allow) workers, beside the
in-memory store: wrk on ``POST /v3/track`` (10 events a call), req/s, p99, server CPU per
request (the mock's processes and redis-server apart) and the scaling efficiency
(req/s at N workers / (N x req/s at 1)).

    python benchmarks/bench_scale.py --seconds 10 --connections 64

It starts its own redis-server (``apt-get install redis-server``) on a free loopback port
with no persistence, and wrk (``apt-get install wrk``). Target: with Redis, 1 worker costs at
most 1.5x the in-memory store's CPU per request; the two are measured in alternating rounds
(both servers up, wrk on one at a time), so the ratio of each pair is taken under the same
load from the rest of the machine (a separate in-memory run drifted by 50% here between
runs minutes apart). Redis' own CPU is shown beside the time ``INFO commandstats`` gives the
mock's commands. After the table: where req/s flattened
here (and whether Redis or the cores), and the on-paper ceiling of one 16-core host and of
3 such nodes on one Redis, from the measured per-request CPU, with the formula.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import cpu_seconds, free_port, run_wrk, wait_http  # noqa: E402


def start_redis(folder: str) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: apt-get install redis-server")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", folder, "--unixsocket", str(Path(folder) / "redis.sock"), "--unixsocketperm", "700"],
                               stdout=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
            return process, port
        time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def redis_cli(port: int, *command: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *command], check=True, capture_output=True, text=True).stdout


# The commands a mock sends under this load (its operations' scripts, the journal's
# transactions and the ids they take); what those run inside them (GET, INCR, HSET, EVAL in
# EXEC, ...) is counted within them, and again under its own name, so it is left out here.
TOP_LEVEL = ("evalsha", "exec", "incrby")


def command_usec(port: int) -> float:
    """Microseconds Redis spent running the mock's commands since the last CONFIG RESETSTAT
    (INFO commandstats); the rest of its CPU is reading, parsing and answering connections.
    Redis times commands by the wall clock: on a machine with more runnable processes than
    cores, a command preempted midway counts its wait too, and this can exceed its CPU."""
    total = 0.0
    for line in redis_cli(port, "info", "commandstats").splitlines():
        name, _, fields = line.partition(":")
        if name.startswith("cmdstat_") and name[8:] in TOP_LEVEL:
            total += float(dict(field.split("=") for field in fields.split(","))["usec"])
    return total


class Setup:
    """One ``mock-1flow serve`` under test: started and warmed up, measured round by round
    (wrk on it alone, the CPU its processes and redis-server used meanwhile), stopped."""

    def __init__(self, args: argparse.Namespace, workers: int, store: str | None, redis: subprocess.Popen | None,
                 run_id: int) -> None:
        self.args, self.redis, self.run_id = args, redis, run_id
        port = free_port()
        command = [sys.executable, "-m", "mock_1flow", "serve", "--port", str(port), "--workers", str(workers)]
        if store:
            redis_cli(args.redis_port, "flushall")
            command += ["--store", store]
        self.mock = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        self.root = f"http://127.0.0.1:{port}"
        try:
            wait_http(self.root + "/__admin/health", self.mock)
            run_wrk(self.root, 2, args.connections, args.threads, run_id * 1000)  # warm-up
        except BaseException:
            self.stop()
            raise

    def round(self, round_no: int) -> dict:
        args, redis, mock = self.args, self.redis, self.mock
        if redis:
            redis_cli(args.redis_port, "config", "resetstat")
        mock_before = cpu_seconds(mock.pid)
        redis_before = cpu_seconds(redis.pid) if redis else 0.0
        started = time.perf_counter()
        result = run_wrk(self.root, args.seconds, args.connections, args.threads, self.run_id * 1000 + round_no + 1)
        elapsed = time.perf_counter() - started
        requests = max(result["requests"], 1)
        result["rps"] = result["requests"] / elapsed
        result["mock_us"] = (cpu_seconds(mock.pid) - mock_before) / requests * 1e6
        result["redis_us"] = ((cpu_seconds(redis.pid) - redis_before) / requests * 1e6) if redis else 0.0
        result["commands_us"] = command_usec(args.redis_port) / requests if redis else 0.0
        return result

    def stop(self) -> None:
        self.mock.terminate()
        self.mock.wait(timeout=30)


def median(results: list[dict]) -> dict:
    return sorted(results, key=lambda r: r["rps"])[len(results) // 2]


def measure(args: argparse.Namespace, workers: int, store: str | None, redis: subprocess.Popen | None, run_id: int) -> dict:
    setup = Setup(args, workers, store, redis, run_id)
    try:
        return median([setup.round(round_no) for round_no in range(args.rounds)])
    finally:
        setup.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per setup (the median is shown)")
    parser.add_argument("--workers", default=None, help="worker counts, e.g. 1,2,4 (default: 1, 2, 4, 8 up to the cores)")
    parser.add_argument("--unix", action="store_true", help="reach Redis on its Unix socket (same host) instead of TCP")
    parser.add_argument("--node-cores", type=int, default=16, help="cores of a host in the on-paper estimate")
    parser.add_argument("--nodes", type=int, default=3, help="mock hosts in the on-paper multi-node estimate")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    cores = os.cpu_count() or 1
    counts = [int(n) for n in args.workers.split(",")] if args.workers else [n for n in (1, 2, 4, 8) if n == 1 or n <= cores]
    print(f"cores: {cores}  load: wrk -c{args.connections} -t{args.threads}, {args.rounds} x {args.seconds:g} s per setup "
          f"(median shown)  request: POST /v3/track, 10 events  "
          f"Redis over: {'its Unix socket' if args.unix else 'TCP loopback'}  "
          f"loadavg: {Path('/proc/loadavg').read_text().split()[:3]}")
    rows: list[tuple[str, int, dict]] = []
    with tempfile.TemporaryDirectory() as folder:
        redis, port = start_redis(folder)
        args.redis_port = port
        store = f"unix://{Path(folder) / 'redis.sock'}" if args.unix else f"redis://127.0.0.1:{port}/0"
        try:
            # the in-memory reference and Redis at 1 worker round by round, alternating: the
            # machine's other load then weighs on both alike, and the ratio is taken per pair
            reference = Setup(args, 1, None, None, 1)
            try:
                first = Setup(args, 1, store, redis, 2)
                try:
                    pairs = [(reference.round(n), first.round(n)) for n in range(args.rounds)]
                finally:
                    first.stop()
            finally:
                reference.stop()
            memory = median([m for m, _ in pairs])
            rows.append(("in-memory", 1, memory))
            rows.append(("redis", 1, median([r for _, r in pairs])))
            for index, workers in enumerate(counts):
                if workers != 1:
                    rows.append(("redis", workers, measure(args, workers, store, redis, index + 3)))
        finally:
            redis.terminate()
            redis.wait(timeout=10)
    ratios = sorted((r["mock_us"] + r["redis_us"]) / m["mock_us"] for m, r in pairs)
    one = next(result for store, workers, result in rows if store == "redis" and workers == 1)
    print(f"{'store':<10}{'workers':>8}{'req/s':>10}{'p99 ms':>9}{'mock µs/req':>13}{'redis µs/req':>14}"
          f"{'(commands)':>12}{'total µs/req':>14}{'vs memory':>11}{'scaling':>9}{'non-2xx':>9}")
    for store, workers, r in rows:
        total = r["mock_us"] + r["redis_us"]
        ratio = total / memory["mock_us"]
        scaling = f"{r['rps'] / (workers * one['rps']):.0%}" if store == "redis" else "-"
        commands = f"{r['commands_us']:.0f}" if store == "redis" else "-"
        print(f"{store:<10}{workers:>8}{r['rps']:>10,.0f}{r['p99']:>9.2f}{r['mock_us']:>13.0f}{r['redis_us']:>14.0f}"
              f"{commands:>12}{total:>14.0f}{ratio:>10.2f}x{scaling:>9}{r['non_2xx']:>9}")
    print("(commands): of Redis' µs a request, what INFO commandstats gives its commands (the scripts and the "
          "journal's transactions; wall clock, so more than the CPU when Redis is preempted); the rest is "
          "reading, parsing and answering connections")
    print(f"Redis at 1 worker against the in-memory store, round by round (each pair run back to back): "
          f"{', '.join(f'{ratio:.2f}x' for ratio in ratios)}; median {ratios[len(ratios) // 2]:.2f}x (target <= 1.5x)")
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")
    report(rows, cores, args.node_cores, args.nodes)


FLAT_GAIN = 0.15  # doubling the workers for less than this much more req/s: flat


def report(rows: list[tuple[str, int, dict]], cores: int, node_cores: int, nodes: int) -> None:
    """Where it flattened here (measured), and the on-paper ceiling elsewhere, from the
    measured per-request CPU of the mock (m) and of Redis (r) at 1 worker."""
    redis_rows = [(workers, r) for store, workers, r in rows if store == "redis"]
    print("\nsaturation (measured):")
    for workers, r in redis_rows:
        busy = (r["mock_us"] + r["redis_us"]) * r["rps"] / 1e6  # cores the mock and Redis kept busy
        redis_core = r["redis_us"] * r["rps"] / 1e6
        print(f"  {workers} worker(s): {r['rps']:,.0f} req/s, mock + Redis busy {busy:.2f} of {cores} cores "
              f"(Redis {redis_core:.0%} of its one core)")
    flat = redis_rows[-1]
    for (before_workers, before), (workers, r) in zip(redis_rows, redis_rows[1:]):
        if r["rps"] < before["rps"] * (1 + FLAT_GAIN):  # more workers, (almost) no more req/s
            flat = (before_workers, before)
            break
    flat_workers, flat_row = flat
    gains = ", ".join(f"{a} -> {b} workers {rb['rps'] / ra['rps'] - 1:+.0%}"
                      for (a, ra), (b, rb) in zip(redis_rows, redis_rows[1:]))
    if gains:
        print(f"  req/s per step: {gains}")
    redis_busy = flat_row["redis_us"] * flat_row["rps"] / 1e6
    limit = "Redis (its one core)" if redis_busy > 0.9 else \
        f"the cores ({cores}, shared by the mock's workers, Redis and wrk; Redis itself {redis_busy:.0%} busy)"
    where = f"flattens from {flat_workers} worker(s)" if flat is not redis_rows[-1] else \
        f"still grew at {flat_workers} worker(s), the most measured"
    print(f"  req/s {where} ({flat_row['rps']:,.0f} req/s; a step that gains under {FLAT_GAIN:.0%} counts as flat): "
          f"limited by {limit}")
    one = dict(redis_rows)[1] if 1 in dict(redis_rows) else redis_rows[0][1]
    m, r = one["mock_us"], one["redis_us"]
    redis_cap = 1e6 / r
    host = min((node_cores - 1) * 1e6 / m, redis_cap)
    cluster = min(nodes * node_cores * 1e6 / m, redis_cap)
    print(f"\non paper, from m = {m:.0f} µs mock CPU and r = {r:.0f} µs Redis CPU a request (1 worker, this run):")
    print(f"  Redis ceiling:        1e6 / r = {redis_cap:,.0f} req/s (Redis runs the scripts on one core)")
    print(f"  one {node_cores}-core host:    min(({node_cores} - 1) x 1e6 / m, 1e6 / r) = min({(node_cores - 1) * 1e6 / m:,.0f}, "
          f"{redis_cap:,.0f}) = {host:,.0f} req/s (Redis on one of its cores, a worker on each other)")
    print(f"  {nodes} nodes x {node_cores} cores: min({nodes} x {node_cores} x 1e6 / m, 1e6 / r) = min({nodes * node_cores * 1e6 / m:,.0f}, "
          f"{redis_cap:,.0f}) = {cluster:,.0f} req/s (Redis on a host of its own)")
    print("  (ceilings: the load generator, the network and the mock's own cap on connections come on top)")


if __name__ == "__main__":
    main()
