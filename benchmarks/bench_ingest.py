"""Issue 22 item 2: the Segment ingest and 1Flow's HTTP API beside the SDK path, in one run.

Starts ``mock-1flow serve`` on a free loopback port and loads it with ``wrk`` (``-t2``,
``--connections`` 32 by default), one phase per route, each phase ``--seconds`` long after a
short warm-up, with unique ids throughout:

- SDK path: ``POST /us/api/2021-06-15/v3/track`` with 10 events;
- Segment ingest: ``POST /v1/batch`` with 10 track events of one anonymous user (200 users in
  turn), delivered through the destination to the same mock (``--delivery sync`` or ``async``);
- 1Flow's HTTP API: ``POST /us/v1/track`` with one event.

Prints, per route, req/s, events/s, p50/p99 and the server's CPU (utime + stime of its
process tree, from /proc) per request and per event, each figure beside its target:
ingest CPU per event <= 2x the SDK path's, HTTP API per request <= 1.5x the SDK path's,
``/v1/batch`` p99 < 10 ms at c32. The machine's load average is printed before and after:
figures from a loaded machine are noisy.

    python benchmarks/bench_ingest.py
    python benchmarks/bench_ingest.py --seconds 10 --delivery async
    python benchmarks/bench_ingest.py --in-process

``--in-process``: no server, no wrk: the same two requests (``/v1/batch`` of 10 track events,
``/v3/track`` of 10 events) straight into the app's WSGI entry, this thread's CPU time per
request (best of ``--rounds`` rounds of ``--requests``): the ingest's own work, without the
server interface's, measured where a busy machine disturbs it least (with ``--delivery async``,
only the accepting thread's: the delivery runs in the background worker).
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import WRK_SCRIPT, WRK_THREADS, cpu_seconds, free_port, id_prefix, run_wrk, spawn, wait_http  # noqa: E402

SDK_PATH = "/us/api/2021-06-15/v3/track"
SDK_KEY = "oneflow_prod_acme"
HTTP_KEY = "oneflow_sandbox_initech"
WRITE_KEY = "segment_wk_acme"
INGEST_TARGET, HTTP_TARGET, P99_TARGET_MS = 2.0, 1.5, 10.0

BATCH_SCRIPT = WRK_THREADS + r"""request = function()
  counter = counter + 1
  local events = {}
  local user = (thread_id * 1000 + counter) % 200
  for i = 0, 9 do
    events[#events + 1] = string.format(
      '{"type":"track","event":"Product Viewed","messageId":"RUN-%d-%d-%d","anonymousId":"dev-%d","properties":{"sku":"SKU-%d","price":%.2f}}',
      thread_id, counter, i, user, i, 9.99 + i)
  end
  local body = '{"batch":[' .. table.concat(events, ",") .. ']}'
  return wrk.format("POST", "/v1/batch", {["Authorization"] = "AUTH", ["Content-Type"] = "application/json"}, body)
end
"""

HTTP_SCRIPT = WRK_THREADS + r"""request = function()
  counter = counter + 1
  local body = string.format(
    '{"user_id":"user-%d","event":"Product Viewed","properties":{"n":%d},"message_id":"RUN-%d-%d"}',
    counter % 200, counter, thread_id, counter)
  return wrk.format("POST", "/us/v1/track", {["api_key"] = "KEY", ["Content-Type"] = "application/json"}, body)
end
"""


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


RUNS = 0


def phase(root: str, pid: int, seconds: float, connections: int, script: str, path: str, events: int) -> dict:
    """A warm-up of a second, then ``seconds`` of load with the server's CPU measured."""
    global RUNS
    RUNS += 2  # SDK event ids: 24 hex digits unique to each run (as compare.py's)
    run_wrk(root, 1, connections, 2, 0, script.replace("RUN", "w").replace("PREFIX", id_prefix(RUNS - 1)), path)
    before = cpu_seconds(pid)
    result = run_wrk(root, seconds, connections, 2, 1, script.replace("RUN", "m").replace("PREFIX", id_prefix(RUNS)), path)
    cpu = cpu_seconds(pid) - before
    requests = max(1, result["requests"])
    return {**result, "rps": requests / seconds, "cpu_us_request": cpu / requests * 1e6,
            "cpu_us_event": cpu / (requests * events) * 1e6, "events": events}


def in_process(requests: int, rounds: int, delivery: str) -> None:
    """Thread CPU per request through the WSGI entry: ingest and SDK path, same process."""
    import orjson

    from mock_1flow.app import create_app
    from mock_1flow.server import wsgi

    app = create_app(ingest_delivery=delivery)
    auth = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    warm = max(requests, 200)  # every one of the 200 devices registered (its /v3/user) before timing
    total = warm + requests * rounds
    batches = [orjson.dumps({"batch": [
        {"type": "track", "event": "Product Viewed", "messageId": f"m-{n}-{i}", "anonymousId": f"dev-{n % 200}",
         "properties": {"sku": f"SKU-{i}", "price": 9.99 + i}} for i in range(10)]}) for n in range(total)]
    tracks = [orjson.dumps({"user_id": "bench-user", "events": [
        {"_id": f"{n:012x}{i:012x}", "name": "Product Viewed", "time": 1_700_000_000, "plt": "w",
         "parameters": {"n": i}} for i in range(10)]}) for n in range(total)]

    def send(path: str, body: bytes, header: tuple[str, str]) -> None:
        env = wsgi.environ("POST", path, "", [("Host", "localhost"), ("Content-Type", "application/json"),
                                              ("Content-Length", str(len(body))), header], body,
                           server=("localhost", "80"), client="127.0.0.1")
        outcome = wsgi.run(app.wsgi_app, env)
        assert outcome.status == 200, (path, outcome.status, outcome.body[:300])

    def best(path: str, bodies: list[bytes], header: tuple[str, str]) -> float:
        for body in bodies[:warm]:
            send(path, body, header)
        figures = []
        for chunk in (bodies[i:i + requests] for i in range(warm, total, requests)):
            started = time.thread_time()
            for body in chunk:
                send(path, body, header)
            figures.append((time.thread_time() - started) / len(chunk) * 1e6)
        return min(figures)

    print(f"in-process, WSGI entry, thread CPU, best of {rounds} x {requests} requests; load average {loadavg()}")
    sdk = best(SDK_PATH, tracks, ("one_flow_key", SDK_KEY))
    ingest = best("/v1/batch", batches, ("Authorization", auth))
    print(f"  SDK /v3/track (10 events)              {sdk:7.1f} µs/request {sdk / 10:6.1f} µs/event")
    print(f"  ingest /v1/batch (10 events, {delivery}){' ' * (6 - len(delivery))}    {ingest:7.1f} µs/request {ingest / 10:6.1f} µs/event"
          f"  ({ingest / sdk:.2f}x the SDK path's)")
    print(f"load average after: {loadavg()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--delivery", choices=("sync", "async"), default="sync")
    parser.add_argument("--in-process", action="store_true", help="no server: the WSGI entry, thread CPU per request")
    parser.add_argument("--requests", type=int, default=300, help="--in-process: requests per round")
    parser.add_argument("--rounds", type=int, default=10, help="--in-process: rounds (the best is shown)")
    args = parser.parse_args()
    if args.in_process:
        in_process(args.requests, args.rounds, args.delivery)
        return 0
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    mock = str(Path(sys.executable).with_name("mock-1flow"))
    server = spawn([mock, "serve", "--port", str(port), "--ingest-delivery", args.delivery,
                    "--journal-body-max", "1024"], env={**os.environ})
    print(f"cores {os.cpu_count()}, load average before: {loadavg()}")
    try:
        wait_http(root + "/__admin/health", server)
        auth = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
        sdk = phase(root, server.pid, args.seconds, args.connections,
                    WRK_SCRIPT.replace("PATH", SDK_PATH).replace("KEY", SDK_KEY), SDK_PATH, 10)
        sdk = phase(root, server.pid, args.seconds, args.connections,
                    WRK_SCRIPT.replace("PATH", SDK_PATH).replace("KEY", SDK_KEY), SDK_PATH, 10)
        ingest = phase(root, server.pid, args.seconds, args.connections, BATCH_SCRIPT.replace("AUTH", auth), "/v1/batch", 10)
        http = phase(root, server.pid, args.seconds, args.connections, HTTP_SCRIPT.replace("KEY", HTTP_KEY), "/us/v1/track", 1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    rows = [("SDK /v3/track (10 events)", sdk), (f"ingest /v1/batch (10 events, {args.delivery})", ingest),
            ("HTTP API /us/v1/track (1 event)", http)]
    print(f"{'route':<40} {'req/s':>8} {'events/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'CPU µs/req':>11} {'CPU µs/event':>13} {'non-2xx':>8}")
    for name, row in rows:
        print(f"{name:<40} {row['rps']:>8,.0f} {row['rps'] * row['events']:>9,.0f} {row['p50']:>7.2f} {row['p99']:>7.2f} "
              f"{row['cpu_us_request']:>11.1f} {row['cpu_us_event']:>13.1f} {row['non_2xx']:>8}")
    ingest_ratio = ingest["cpu_us_event"] / sdk["cpu_us_event"]
    http_ratio = http["cpu_us_request"] / sdk["cpu_us_request"]
    checks = [
        (f"ingest CPU per event {ingest_ratio:.2f}x the SDK path's", f"<= {INGEST_TARGET}x", ingest_ratio <= INGEST_TARGET),
        (f"HTTP API CPU per request {http_ratio:.2f}x the SDK path's", f"<= {HTTP_TARGET}x", http_ratio <= HTTP_TARGET),
        (f"/v1/batch p99 {ingest['p99']:.2f} ms at c{args.connections}", f"< {P99_TARGET_MS} ms", ingest["p99"] < P99_TARGET_MS),
    ]
    for figure, target, met in checks:
        print(f"  {figure:<50} target {target:<9} {'met' if met else 'MISSED'}")
    print(f"load average after: {loadavg()}")
    return 0 if all(met for _, _, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
