"""The mock beside WireMock, Prism and two bare baselines, under the same load, in one run.

Every server gets the same request, ``POST /us/api/2021-06-15/v3/track`` with 10 events
(a unique 24-hex ``_id`` per event, letters and digits like a real ObjectId, so the mock's
store grows). Each server is first warmed up alone, round after round, until two
consecutive rounds agree within 10% (and, for a JVM, after at least 30 s of warm-up
traffic: WireMock's req/s keeps rising for that long); every warm-up round is printed. Then
all servers are measured in interleaved rounds. Printed per server: requests/s, p50 and p99
latency, server CPU in µs per request (utime + stime of the server's process tree, from
/proc), its RSS at the end, and the ratios to the mock. WireMock runs three ways: journal
on and unbounded (its default), journal capped at the mock's journal cap (10,000 entries),
and ``--no-request-journal``. The mock runs as ``mock-1flow serve`` with validation,
journal and state on; its journal's ``recorded`` is checked against the requests the load
generator completed. The two baselines read the body and answer without any of the mock's
work: bare RSGI is the floor of the interface the mock serves on, bare WSGI on one blocking
thread is granian's cheapest set-up (which the mock cannot use: see ``baseline_servers``).

    python benchmarks/compare.py                      # mock + bare RSGI and WSGI baselines
    python benchmarks/compare.py --with-wiremock --with-prism --rounds 3 --seconds 5
    python benchmarks/compare.py --quick --with-wiremock   # a smoke run: short rounds, short warm-up

On a machine with more than 2 cores the load generator is pinned (``taskset``) to core 0
and the servers to the others; with 2 or fewer they share the cores, and it says so. The
load average (/proc/loadavg) is printed before and after every round: other work on the
machine shows there.

``--with-wiremock`` / ``--with-prism`` install the npm packages ``wiremock`` (it ships its
jar; needs Java 17+) and ``@stoplight/prism-cli`` into ``benchmarks/.cache`` (ignored by
git) on first use. Load comes from wrk when installed (``apt-get install wrk``), else from
the Python load generator of ``bench_track.py`` (slower: it may saturate before the servers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
PATH = "/us/api/2021-06-15/v3/track"
KEY = "oneflow_prod_acme"
WIREMOCK_VERSION = "3.13.2"
MOCK_JOURNAL_CAP = 10_000  # mock_1flow.server.journal.DEFAULT_JOURNAL_CAP (not imported: compare.py runs without the package)
AGREE = 0.10  # warm when two consecutive rounds' req/s differ by at most this share
JVM_WARMUP_SECONDS = 30.0
PRISM_VERSION = "5.16.0"
SUCCESS = '{"success":200,"message":"Events added","result":{"stored":10,"duplicates":0}}'
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Each wrk thread's number (1, 2, ...) in ``thread_id``, and a per-thread ``counter``: the
# start of every wrk script here, so that ids stay unique across threads.
WRK_THREADS = r"""
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  thread_id = tid or 0
end
"""

WRK_SCRIPT = WRK_THREADS + r"""request = function()
  counter = counter + 1
  local events = {}
  for i = 0, 9 do
    events[#events + 1] = string.format(
      '{"name":"Product Viewed","time":%d,"plt":"i","_id":"%s%02x%s%x","parameters":{"sku":"SKU-%d","price":%.2f}}',
      1764000000 + i, "PREFIX", thread_id, bit.tohex(bit.bxor(counter, 0x5bd1e995), 8), i, i, 9.99 + i)
  end
  local body = '{"user_id":"0123456789abcdef01234567","events":[' .. table.concat(events, ",") .. ']}'
  return wrk.format("POST", "PATH", {["one_flow_key"] = "KEY", ["Content-Type"] = "application/json"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url} after {seconds} s")


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and its descendants (the server's whole tree)."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of the process and its descendants (VmRSS, from /proc)."""
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(found.group(1)) * 1024 if found else 0
    return total


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pinning() -> tuple[list[str], list[str], str]:
    """taskset prefixes for (servers, load generator) and a sentence saying what was done:
    the load generator on core 0 and the servers on the rest when there are more than 2
    cores, else nothing (they share the cores)."""
    cores = os.cpu_count() or 1
    if cores > 2 and shutil.which("taskset"):
        return (["taskset", "-c", f"1-{cores - 1}"], ["taskset", "-c", "0"],
                f"load generator pinned to core 0, servers to cores 1-{cores - 1} (taskset)")
    return [], [], f"{cores} cores: the load generator shares them with the server (no taskset)"


SERVER_PIN, LOAD_PIN, PINNING = pinning()


@dataclass
class Server:
    name: str
    start: Callable[[int], subprocess.Popen]
    ready_path: str = "/"
    prepare: Callable[[str], None] = lambda root: None
    jvm: bool = False  # warmed up for at least JVM_WARMUP_SECONDS
    process: subprocess.Popen | None = None
    root: str = ""
    warmup: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # the measured rounds
    rss: int = 0  # bytes, after the last round

    @property
    def rounds(self) -> list[dict]:
        """The measured rounds (warm-up left out)."""
        return self.results

    def launch(self) -> None:
        port = free_port()
        self.root = f"http://127.0.0.1:{port}"
        self.process = self.start(port)
        wait_http(self.root + self.ready_path, self.process)
        self.prepare(self.root)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def spawn(args: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(SERVER_PIN + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, **kwargs)


def mock_server() -> Server:
    return Server(
        "mock-1flow",
        lambda port: spawn([sys.executable, "-m", "mock_1flow", "serve", "--port", str(port)], cwd=ROOT),
        ready_path="/__admin/health",
    )


def baseline_servers() -> list[Server]:
    """Two floors: a bare RSGI app with the mock's interface settings (uvloop), and a bare
    WSGI callable on one blocking thread, granian's cheapest set-up (which the mock cannot
    use: a WSGI body read has no deadline, so stalled clients would hold its thread)."""
    granian = [sys.executable, "-m", "granian", "--workers", "1", "--log-level", "warning"]
    return [
        Server(
            "bare RSGI (granian)",
            lambda port: spawn(granian + ["--interface", "rsgi", "--loop", "uvloop", "--port", str(port), "baseline_rsgi:app"], cwd=HERE),
            ready_path=PATH,
        ),
        Server(
            "bare WSGI (granian)",
            lambda port: spawn(granian + ["--interface", "wsgi", "--runtime-mode", "st", "--blocking-threads", "1",
                                          "--port", str(port), "baseline_wsgi:app"], cwd=HERE),
            ready_path=PATH,
        ),
    ]


def npm_install(package: str, version: str) -> Path:
    prefix = CACHE / "npm"
    marker = prefix / "node_modules" / package / "package.json"
    if not marker.exists():
        if shutil.which("npm") is None:
            raise SystemExit("npm is needed for --with-wiremock / --with-prism")
        prefix.mkdir(parents=True, exist_ok=True)
        print(f"installing {package}@{version} into {prefix} ...", flush=True)
        subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"{package}@{version}"],
                       check=True, stdout=subprocess.DEVNULL)
    return prefix / "node_modules" / package


def wiremock_servers() -> list[Server]:
    """WireMock three ways: journal on and unbounded (its default), journal capped at the
    mock's cap, journal off. One stub answers the track request."""
    package = npm_install("wiremock", WIREMOCK_VERSION)
    jar = next(package.rglob("wiremock-standalone-*.jar"))

    def stub(root: str) -> None:
        mapping = {
            "request": {"method": "POST", "urlPath": PATH},
            "response": {"status": 200, "body": SUCCESS, "headers": {"Content-Type": "application/json"}},
        }
        request = urllib.request.Request(root + "/__admin/mappings", data=json.dumps(mapping).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()

    def server(label: str, flags: list[str]) -> Server:
        return Server(
            f"WireMock {label}",
            lambda port: spawn(["java", "-jar", str(jar), "--port", str(port), "--disable-banner", *flags]),
            ready_path="/__admin/health",
            prepare=stub,
            jvm=True,
        )

    return [
        server("journal unbounded", []),
        server(f"journal cap {MOCK_JOURNAL_CAP // 1000}k", ["--max-request-journal-entries", str(MOCK_JOURNAL_CAP)]),
        server("no journal", ["--no-request-journal"]),
    ]


def prism_server() -> Server:
    npm_install("@stoplight/prism-cli", PRISM_VERSION)
    prism = CACHE / "npm" / "node_modules" / ".bin" / "prism"
    return Server(
        f"Prism {PRISM_VERSION}",
        lambda port: spawn([str(prism), "mock", str(ROOT / "openapi.yaml"), "--port", str(port), "--host", "127.0.0.1"]),
        ready_path="/openapi.yaml",
    )


def id_prefix(run_id: int) -> str:
    """13 hex digits unique to a run (a bijection of ``run_id`` modulo 2**52), most with letters."""
    return f"{(run_id * 0x9E3779B97F4A7C15) & ((1 << 52) - 1):013x}"


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(root: str, seconds: float, connections: int, threads: int, run_id: int,
            script: str | None = None, path: str = PATH) -> dict:
    """One wrk run; ``script`` (Lua) defaults to the track request with ``run_id`` in its ids."""
    if script is None:
        script = WRK_SCRIPT.replace("PATH", PATH).replace("KEY", KEY).replace("PREFIX", id_prefix(run_id))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            LOAD_PIN + ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency", "-s", handle.name, root + path],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    latency = {m.group(1): float(m.group(2)) * UNITS[m.group(3)] for m in re.finditer(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    completed = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests": completed, "p50": latency["50"], "p99": latency["99"],
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0, "socket_errors": errors.group(1) if errors else ""}


def run_python(root: str, seconds: float, connections: int, run_id: int) -> dict:
    sys.path.insert(0, str(HERE))
    import bench_track  # noqa: PLC0415

    sent, latencies, statuses, _ = asyncio.run(bench_track.load(root, seconds, connections, seq_base=run_id << 48))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"requests": len(latencies), "p50": pick(0.5), "p99": pick(0.99),
            "non_2xx": sum(n for status, n in statuses.items() if status >= 300), "socket_errors": ""}


PAUSED: list[Server] = []  # every server started: all but the one measured are paused (SIGSTOP) during a run


def pause_others(server: Server, stop: bool) -> None:
    """Pause (``stop``) or resume every other started server's process group. An idle JVM
    is not idle (JIT compiler and GC threads, a capped journal's eviction): left running,
    it takes CPU from whichever server is measured on a 2-core machine, and the load
    average reads 10-16 from the benchmark's own subjects."""
    for other in PAUSED:
        if other is not server and other.process is not None and other.process.poll() is None:
            os.killpg(other.process.pid, signal.SIGSTOP if stop else signal.SIGCONT)


def measure(server: Server, load: Callable[[Server, int], dict], run_id: int) -> dict:
    """One load run against ``server`` alone (the other servers paused): its result with
    req/s, server CPU µs per request and the load average before and after."""
    assert server.process is not None
    pause_others(server, True)
    try:
        return _measure(server, load, run_id)
    finally:
        pause_others(server, False)


def _measure(server: Server, load: Callable[[Server, int], dict], run_id: int) -> dict:
    load_before = load_average()
    before, started = cpu_seconds(server.process.pid), time.perf_counter()
    result = load(server, run_id)
    result["rps"] = result["requests"] / (time.perf_counter() - started)
    result["cpu_us"] = (cpu_seconds(server.process.pid) - before) / max(result["requests"], 1) * 1e6
    result["load"] = f"{load_before} -> {load_average()}"
    return result


def warm_up(server: Server, load: Callable[[Server, int], dict], next_id: Callable[[], int], seconds: float,
            min_seconds: float, max_rounds: int) -> None:
    """Load ``server`` alone, round after round, until two consecutive rounds' req/s agree
    within :data:`AGREE` and at least ``min_seconds`` of load went by (or ``max_rounds``
    ran); every round is printed."""
    loaded = 0.0
    while True:
        result = measure(server, load, next_id())
        server.warmup.append(result)
        loaded += seconds
        agreed = len(server.warmup) >= 2 and abs(result["rps"] - server.warmup[-2]["rps"]) <= AGREE * server.warmup[-2]["rps"]
        warm = agreed and loaded >= min_seconds
        print(f"  warm-up {server.name} round {len(server.warmup)}: {result['rps']:,.0f} req/s, "
              f"{result['cpu_us']:.1f} µs CPU/req, p99 {result['p99']:.2f} ms  (load {result['load']})"
              f"{'  warm' if warm else ''}", flush=True)
        if warm:
            return
        if len(server.warmup) >= max_rounds:
            print(f"  warm-up {server.name}: NOT settled after {max_rounds} rounds; measuring anyway", flush=True)
            return


def run_rounds(servers: list[Server], rounds: int, load: Callable[[Server, int], dict],
               before_stop: Callable[[], None] = lambda: None,
               warm: Callable[[Server, Callable[[], int]], None] | None = None) -> None:
    """Start the servers, warm each up (``warm(server, next_id)``; by default one round),
    then load them in ``rounds`` interleaved rounds, then record their RSS and stop them.
    Measured results land in ``server.results`` with req/s and the server's CPU µs per
    request; ``load(server, run_id)`` runs the load generator once."""
    counter = iter(range(1, 1 << 30))
    next_id = lambda: next(counter)  # noqa: E731
    try:
        for server in servers:
            server.launch()
            PAUSED.append(server)
        for server in servers:
            if warm is None:
                server.warmup.append(measure(server, load, next_id()))
            else:
                warm(server, next_id)
        for round_no in range(1, rounds + 1):
            for server in servers:
                server.results.append(measure(server, load, next_id()))
            print(f"  round {round_no}: " + "  ".join(f"{s.name} {s.rounds[-1]['rps']:,.0f}/s" for s in servers)
                  + f"  (load {servers[0].rounds[-1]['load'].split(' -> ')[0]} -> {load_average()})", flush=True)
        for server in servers:
            assert server.process is not None
            server.rss = rss_bytes(server.process.pid)
        before_stop()
    finally:
        for server in servers:
            if server in PAUSED:
                PAUSED.remove(server)
            server.stop()


def journal_recorded(root: str) -> int:
    with urllib.request.urlopen(root + "/__admin/requests?limit=1", timeout=30) as response:
        return json.load(response)["recorded"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, interleaved, after the warm-up")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per round (warm-up rounds too)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--max-warmup-rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 round of 2 s, warm-up of at most 3 rounds, JVM minimum 4 s (figures not comparable)")
    parser.add_argument("--with-wiremock", action="store_true")
    parser.add_argument("--with-prism", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is installed")
    args = parser.parse_args()
    jvm_minimum = JVM_WARMUP_SECONDS
    if args.quick:
        args.rounds, args.seconds, args.max_warmup_rounds, jvm_minimum = 1, 2.0, 3, 4.0

    use_wrk = shutil.which("wrk") is not None and not args.python_load
    servers = [mock_server()]
    if not args.no_baseline:
        servers.extend(baseline_servers())
    if args.with_wiremock:
        servers.extend(wiremock_servers())
    if args.with_prism:
        servers.append(prism_server())
    mock = servers[0]
    print(f"cores: {os.cpu_count()} ({PINNING})  load average: {load_average()}\n"
          f"load: {'wrk' if use_wrk else 'python'} -c{args.connections}{f' -t{args.threads}' if use_wrk else ''}  "
          f"warm-up: until two rounds agree within {AGREE:.0%} (JVM: at least {jvm_minimum:g} s)  "
          f"then {args.rounds} interleaved rounds x {args.seconds:g} s  request: POST {PATH} with 10 events (24-hex ids)\n"
          f"each run loads one server with the others paused (SIGSTOP): an idle JVM's JIT and GC threads take no CPU from it",
          flush=True)

    def load(server: Server, run_id: int) -> dict:
        if use_wrk:
            return run_wrk(server.root, args.seconds, args.connections, args.threads, run_id)
        return run_python(server.root, args.seconds, args.connections, run_id)

    def warm(server: Server, next_id: Callable[[], int]) -> None:
        warm_up(server, load, next_id, args.seconds, jvm_minimum if server.jvm else 0.0, args.max_warmup_rounds)

    recorded: list[int] = []
    run_rounds(servers, args.rounds, load, lambda: recorded.append(journal_recorded(mock.root)), warm)
    runs = mock.warmup + mock.results
    completed = sum(result["requests"] for result in runs)

    def summary(server: Server) -> dict:
        rounds = server.rounds
        return {
            "rps": statistics.median(r["rps"] for r in rounds),
            "p50": statistics.median(r["p50"] for r in rounds),
            "p99": max(r["p99"] for r in rounds),
            "cpu_us": statistics.median(r["cpu_us"] for r in rounds),
            "non_2xx": sum(r["non_2xx"] for r in rounds),
            "rss": server.rss / 2**20,
            "warm_s": len(server.warmup) * args.seconds,
        }

    figures = {server.name: summary(server) for server in servers}
    base = figures[mock.name]
    print()
    print(f"{'server':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}{'RSS MB':>9}{'non-2xx':>9}"
          f"{'warm-up s':>11}{'req/s vs mock':>15}{'CPU vs mock':>13}")
    for name, f in figures.items():
        print(f"{name:<28}{f['rps']:>10,.0f}{f['p50']:>9.2f}{f['p99']:>9.2f}{f['cpu_us']:>12.1f}{f['rss']:>9,.0f}"
              f"{f['non_2xx']:>9}{f['warm_s']:>11g}{f['rps'] / base['rps']:>14.2f}x{f['cpu_us'] / base['cpu_us']:>12.2f}x")
    print()
    print("(req/s, p50, CPU: median over the measured rounds; p99: worst round; RSS: the server's process tree after "
          "the last round. 'CPU vs mock' > 1 means the server spends more CPU per request.)")
    print(f"load average at the end: {load_average()}  ({PINNING})")
    slack = args.connections if use_wrk else 0  # wrk does not count requests still in flight when it stops
    equal = completed <= recorded[0] <= completed + slack * len(runs)
    print(f"mock journal recorded {recorded[0]} for {completed} completed requests"
          f"{f' (+ at most {slack} in flight per run)' if slack else ''}: {'consistent' if equal else 'MISMATCH'}")
    mock_rounds = [r["rps"] for r in runs]
    print("mock req/s by run, warm-up first (store growing): " + ", ".join(f"{rps:,.0f}" for rps in mock_rounds))
    targets = [("p99 < 10 ms", base["p99"] < 10), ("journal complete", equal)]
    rsgi = figures.get("bare RSGI (granian)")
    if rsgi is not None:
        targets.append((f"CPU within 2x of bare RSGI ({base['cpu_us'] / rsgi['cpu_us']:.2f}x)", base["cpu_us"] <= 2 * rsgi["cpu_us"]))
    for name, factor in (("WireMock journal unbounded", 1.3), ("Prism", 20.0)):
        other = next((f for label, f in figures.items() if label.startswith(name)), None)
        if other is not None:
            targets.append((f"CPU ≥ {factor:g}x less than {name} ({other['cpu_us'] / base['cpu_us']:.2f}x)",
                            other["cpu_us"] >= factor * base["cpu_us"]))
    growth = mock_rounds[-1] >= 0.9 * max(mock_rounds)
    targets.append(("req/s holding as the store grows (last run ≥ 90% of the best)", growth))
    print("targets: " + ", ".join(f"{label}: {'met' if ok else 'NOT met'}" for label, ok in targets))
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
