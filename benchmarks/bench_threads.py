"""``serve --threads``: the Flask routes' pool size, measured on the busiest Flask route.

    python benchmarks/bench_threads.py --threads 1,2,4 --rounds 3 --seconds 4

The SDK API runs on the event loop and the admin API in a pool of its own, so ``--threads``
sizes the pool of the other Flask routes; the busiest is the Segment ingest. This starts
one ``mock-1flow serve`` per pool size and loads each, in interleaved rounds, with
``POST /v1/track`` (a Segment track call that the ingest maps and delivers to 1Flow's
``/v3/track``) through wrk -c32, printing req/s, p99 and server CPU per request. The
default (1) was chosen from this: see the README's options table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import ROOT, Server, run_rounds, run_wrk, spawn  # noqa: E402

PATH = "/v1/track"
SCRIPT = r"""
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"writeKey":"segment_wk_acme","type":"track","event":"Order Completed","userId":"u-%d",'
    .. '"messageId":"m-RUN-%d","properties":{"revenue":12.5}}', counter % 500, counter)
  return wrk.format("POST", "PATH", {["Content-Type"] = "application/json"}, body)
end
"""


def mock(threads: int) -> Server:
    return Server(
        f"--threads {threads}",
        lambda port: spawn([sys.executable, "-m", "mock_1flow", "serve", "--port", str(port), "--threads", str(threads)], cwd=ROOT),
        ready_path="/__admin/health",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2,4", help="pool sizes to compare, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    servers = [mock(int(n)) for n in args.threads.split(",")]
    print(f"cores: {os.cpu_count()}  load: wrk -c{args.connections} -t2  rounds: {args.rounds} x {args.seconds:g} s "
          f"(+1 warm-up)  request: POST {PATH} (Segment track, delivered to 1Flow)", flush=True)
    def load(server: Server, run_id: int) -> dict:
        return run_wrk(server.root, args.seconds, args.connections, 2, run_id,
                       script=SCRIPT.replace("PATH", PATH).replace("RUN", str(run_id)), path=PATH)

    run_rounds(servers, args.rounds, load)
    print(f"\n{'pool':<14}{'req/s':>9}{'p99 ms':>9}{'CPU µs/req':>12}{'non-2xx':>9}")
    for server in servers:
        rounds = server.rounds
        print(f"{server.name:<14}{statistics.median(r['rps'] for r in rounds):>9,.0f}"
              f"{max(r['p99'] for r in rounds):>9.2f}{statistics.median(r['cpu_us'] for r in rounds):>12.1f}"
              f"{sum(r['non_2xx'] for r in rounds):>9}")
    print("\n(req/s, CPU: median over rounds; p99: worst round.)")


if __name__ == "__main__":
    main()
