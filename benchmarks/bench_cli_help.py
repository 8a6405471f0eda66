"""``mock-1flow --help`` start-up time: sub-commands are imported lazily, so the help
loads click only. Prints the best and median wall time of N runs of the installed
command beside the target (0.15 s), and ``python -c pass`` for the interpreter's own share.

    python benchmarks/bench_cli_help.py --runs 20 [--command /path/to/venv/bin/mock-1flow]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.15


def timed(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--command", default=shutil.which("mock-1flow") or "mock-1flow")
    args = parser.parse_args()
    help_times = timed([args.command, "--help"], args.runs)
    bare = timed([sys.executable, "-c", "pass"], args.runs)
    print(f"{args.command} --help: best {min(help_times):.3f} s, median {statistics.median(help_times):.3f} s "
          f"(target < {TARGET_SECONDS} s) over {args.runs} runs")
    print(f"python -c pass:        best {min(bare):.3f} s, median {statistics.median(bare):.3f} s")


if __name__ == "__main__":
    main()
