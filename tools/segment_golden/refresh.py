"""Rebuild the golden corpus from Segment's own code.

    python tools/segment_golden/refresh.py

Installs the pinned npm packages (``mock_1flow.destination.mapping.pins``) into
``tools/segment_golden/.cache/`` (ignored by git), generates the seeded cases
(``generate_cases.py``), has ``answer.js`` compute Segment's answers with Node, and writes
``fixtures/segment-golden/corpus.jsonl.gz``: a header line (versions, seed, counts), the event
pool, then one line per case with its inputs and Segment's answer. Needs ``node`` and ``npm``;
the tests that read the corpus do not.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CACHE = HERE / ".cache"
OUTPUT = ROOT / "fixtures" / "segment-golden" / "corpus.jsonl.gz"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from generate_cases import SEED, generate  # noqa: E402

from mock_1flow.destination.mapping.pins import SEGMENT_PACKAGES  # noqa: E402


def install() -> dict[str, str]:
    """npm-install the pinned packages into the cache; the versions actually installed."""
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest = CACHE / "package.json"
    if not manifest.exists():
        manifest.write_text('{"name": "segment-golden-cache", "private": true}\n')
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to refresh the corpus (the tests that read it are not)")
    specs = [f"{name}@{version}" for name, version in SEGMENT_PACKAGES.items()]
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--save-exact", *specs], cwd=CACHE, check=True)
    return {name: json.loads((CACHE / "node_modules" / name / "package.json").read_text())["version"]
            for name in SEGMENT_PACKAGES}


def main() -> None:
    installed = install()
    if installed != SEGMENT_PACKAGES:
        raise SystemExit(f"npm installed {installed}, the pins say {SEGMENT_PACKAGES}")
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is needed to refresh the corpus")
    cases = list(generate())
    text = "".join(json.dumps(case) + "\n" for case in cases)
    run = subprocess.run([node, str(HERE / "answer.js")], input=text.encode(), capture_output=True, check=True)
    answers = {answer["id"]: answer for answer in map(json.loads, run.stdout.decode().splitlines())}
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    events = cases[0]
    rows = [case | {"answer": {k: v for k, v in answers[case["id"]].items() if k != "id"}} for case in cases[1:]]
    header = {"kind": "meta", "versions": installed, "node": node_version, "seed": SEED,
              "mappings": sum(r["kind"] == "mapping" for r in rows),
              "trigger_events": sum(len(r["events"]) for r in rows if r["kind"] == "trigger"),
              "triggers": sum(r["kind"] == "trigger" for r in rows)}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUTPUT, "wb", compresslevel=9, mtime=0) as out:
        for row in [header, events, *rows]:
            out.write((json.dumps(row, separators=(",", ":")) + "\n").encode("ascii"))
    print(f"{OUTPUT.relative_to(ROOT)}: {header['mappings']} mapping cases, {header['triggers']} triggers x events = "
          f"{header['trigger_events']} trigger cases, {OUTPUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
