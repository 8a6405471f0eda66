"""The mock beside WireMock, Prism and two bare baselines, under the same load, in one run.

Every server gets the same request, ``POST /us/api/2021-06-15/v3/track`` with 10 events
(unique ``_id`` per request, so the mock's store grows), in interleaved rounds after a
warm-up round each. Printed per server: requests/s, p50 and p99 latency, and server CPU in
µs per request (utime + stime of the server's process tree, from /proc), with ratios to
the mock. The mock runs as ``mock-1flow serve`` with validation, journal and state on; its
journal's ``recorded`` is checked against the requests the load generator completed.
The two baselines read the body and answer without any of the mock's work: bare RSGI is
the floor of the interface the mock serves on, bare WSGI on one blocking thread is
granian's cheapest set-up (which the mock cannot use: see ``baseline_servers``).

    python benchmarks/compare.py                      # mock + bare RSGI and WSGI baselines
    python benchmarks/compare.py --with-wiremock --with-prism --rounds 5 --seconds 5

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
PRISM_VERSION = "5.16.0"
SUCCESS = '{"success":200,"message":"Events added","result":{"stored":10,"duplicates":0}}'
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

WRK_SCRIPT = r"""
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
request = function()
  counter = counter + 1
  local events = {}
  for i = 0, 9 do
    events[#events + 1] = string.format(
      '{"name":"Product Viewed","time":%d,"plt":"i","_id":"%08x%08x%08x","parameters":{"sku":"SKU-%d","price":%.2f}}',
      1764000000 + i, RUN, thread_id * 16777216 + counter, i, i, 9.99 + i)
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


@dataclass
class Server:
    name: str
    start: Callable[[int], subprocess.Popen]
    ready_path: str = "/"
    prepare: Callable[[str], None] = lambda root: None
    process: subprocess.Popen | None = None
    root: str = ""
    results: list[dict] = field(default_factory=list)  # the warm-up round's first

    @property
    def rounds(self) -> list[dict]:
        """The measured rounds (the warm-up left out)."""
        return self.results[1:]

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
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, **kwargs)


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


def wiremock_server() -> Server:
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

    return Server(
        f"WireMock {WIREMOCK_VERSION} (journal on)",
        lambda port: spawn(["java", "-jar", str(jar), "--port", str(port), "--disable-banner"]),
        ready_path="/__admin/health",
        prepare=stub,
    )


def prism_server() -> Server:
    npm_install("@stoplight/prism-cli", PRISM_VERSION)
    prism = CACHE / "npm" / "node_modules" / ".bin" / "prism"
    return Server(
        f"Prism {PRISM_VERSION}",
        lambda port: spawn([str(prism), "mock", str(ROOT / "openapi.yaml"), "--port", str(port), "--host", "127.0.0.1"]),
        ready_path="/openapi.yaml",
    )


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(root: str, seconds: float, connections: int, threads: int, run_id: int,
            script: str | None = None, path: str = PATH) -> dict:
    """One wrk run; ``script`` (Lua) defaults to the track request with ``run_id`` in its ids."""
    if script is None:
        script = WRK_SCRIPT.replace("PATH", PATH).replace("KEY", KEY).replace("RUN", str(run_id))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency", "-s", handle.name, root + path],
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


def run_rounds(servers: list[Server], rounds: int, load: Callable[[Server, int], dict],
               before_stop: Callable[[], None] = lambda: None) -> None:
    """Start the servers, load each in turn for one warm-up round and ``rounds`` more, then
    stop them. Every result (warm-up first) lands in ``server.results`` with its req/s and the
    server's CPU µs per request; ``load(server, run_id)`` runs the load generator once."""
    run_id = 1
    try:
        for server in servers:
            server.launch()
        for round_no in range(rounds + 1):
            for server in servers:
                assert server.process is not None
                before, started = cpu_seconds(server.process.pid), time.perf_counter()
                result = load(server, run_id)
                run_id += 1
                result["rps"] = result["requests"] / (time.perf_counter() - started)
                result["cpu_us"] = (cpu_seconds(server.process.pid) - before) / max(result["requests"], 1) * 1e6
                server.results.append(result)
            if round_no:
                print(f"  round {round_no}: " + "  ".join(f"{s.name.split(' ')[0]} {s.rounds[-1]['rps']:,.0f}/s" for s in servers),
                      flush=True)
        before_stop()
    finally:
        for server in servers:
            server.stop()


def journal_recorded(root: str) -> int:
    with urllib.request.urlopen(root + "/__admin/requests?limit=1", timeout=30) as response:
        return json.load(response)["recorded"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--with-wiremock", action="store_true")
    parser.add_argument("--with-prism", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk is installed")
    args = parser.parse_args()

    use_wrk = shutil.which("wrk") is not None and not args.python_load
    servers = [mock_server()]
    if not args.no_baseline:
        servers.extend(baseline_servers())
    if args.with_wiremock:
        servers.append(wiremock_server())
    if args.with_prism:
        servers.append(prism_server())
    mock = servers[0]
    print(f"cores: {os.cpu_count()}  load: {'wrk' if use_wrk else 'python'} -c{args.connections}"
          f"{f' -t{args.threads}' if use_wrk else ''}  rounds: {args.rounds} x {args.seconds:g} s (+1 warm-up)  "
          f"request: POST {PATH} with 10 events", flush=True)
    def load(server: Server, run_id: int) -> dict:
        if use_wrk:
            return run_wrk(server.root, args.seconds, args.connections, args.threads, run_id)
        return run_python(server.root, args.seconds, args.connections, run_id)

    recorded: list[int] = []
    run_rounds(servers, args.rounds, load, lambda: recorded.append(journal_recorded(mock.root)))
    completed = sum(result["requests"] for result in mock.results)

    def summary(server: Server) -> dict:
        rounds = server.rounds
        return {
            "rps": statistics.median(r["rps"] for r in rounds),
            "p50": statistics.median(r["p50"] for r in rounds),
            "p99": max(r["p99"] for r in rounds),
            "cpu_us": statistics.median(r["cpu_us"] for r in rounds),
            "non_2xx": sum(r["non_2xx"] for r in rounds),
        }

    figures = {server.name: summary(server) for server in servers}
    base = figures[mock.name]
    print()
    print(f"{'server':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}{'non-2xx':>9}"
          f"{'req/s vs mock':>15}{'CPU vs mock':>13}")
    for name, f in figures.items():
        print(f"{name:<28}{f['rps']:>10,.0f}{f['p50']:>9.2f}{f['p99']:>9.2f}{f['cpu_us']:>12.1f}{f['non_2xx']:>9}"
              f"{f['rps'] / base['rps']:>14.2f}x{f['cpu_us'] / base['cpu_us']:>12.2f}x")
    print()
    print("(req/s, p50, CPU: median over rounds; p99: worst round. 'CPU vs mock' > 1 means the server spends more CPU per request.)")
    slack = args.connections if use_wrk else 0  # wrk does not count requests still in flight when it stops
    equal = completed <= recorded[0] <= completed + slack * (args.rounds + 1)
    print(f"mock journal recorded {recorded[0]} for {completed} completed requests"
          f"{f' (+ at most {slack} in flight per round)' if slack else ''}: {'consistent' if equal else 'MISMATCH'}")
    mock_rounds = [r["rps"] for r in mock.rounds]
    print("mock req/s by round (store growing): " + ", ".join(f"{rps:,.0f}" for rps in mock_rounds))
    targets = [("CPU ≤ 40 µs/request", base["cpu_us"] <= 40), ("p99 < 10 ms", base["p99"] < 10), ("journal complete", equal)]
    for prefix, factor in (("WireMock", 1.6), ("Prism", 20.0)):
        other = next((f for name, f in figures.items() if name.startswith(prefix)), None)
        if other is not None:
            targets.append((f"CPU ≥ {factor:g}x less than {prefix} ({other['cpu_us'] / base['cpu_us']:.2f}x)",
                            other["cpu_us"] >= factor * base["cpu_us"]))
    growth = mock_rounds[-1] >= 0.9 * max(mock_rounds)
    targets.append(("req/s holding as the store grows (last round ≥ 90% of the best)", growth))
    print("targets: " + ", ".join(f"{label}: {'met' if ok else 'NOT met'}" for label, ok in targets))
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
