"""``mock-1flow drift`` on recordings made through the proxy (conftest.py): a faithful
upstream shows no drift (exit 0); a deviating one shows each difference per operation
(exit 1), as a table and as JSON."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.replay.conftest import FLOW


def drift(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_1flow", "drift", *args], capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ, "COLUMNS": "200"})


def test_a_faithful_upstream_shows_no_drift(recordings):
    done = drift(str(recordings.faithful))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"no drift: 7 operation(s), {len(FLOW) + 1} exchange(s)" in done.stdout
    report = json.loads(drift(str(recordings.faithful), "--json").stdout)
    assert report["drift"] is False and {o["operation"] for o in report["operations"]} == {
        "addUser", "listSurveys", "trackEvents", "identifyUser", "submitSurveyResponse", "listAnnouncements", "httpIdentify"}


def test_a_deviating_upstream_shows_each_difference_per_operation(recordings):
    done = drift(str(recordings.deviating), "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    found = {o["operation"]: [(d["kind"], d["where"], d["real"], d["mock"], d["lines"]) for d in o["differences"]]
             for o in report["operations"]}
    assert found == {
        "addUser": [("only in mock", "/result/analytic_user_id", "-", "string", [1]),
                    ("type", "/result/created_on", "string", "integer", [1]),
                    ("only in mock", "/result/devices", "-", "array", [1]),
                    ("only in mock", "/result/first_name", "-", "string", [1]),
                    ("only in mock", "/result/last_name", "-", "string", [1]),
                    ("only in mock", "/result/locations", "-", "array", [1])],
        "trackEvents": [("envelope", "/success", "202", "200", [2]), ("envelope", "/message", "absent", "present", [2]),
                        ("type", "/result", "null", "object", [2])],
        "listSurveys": [("status", "status", "503", "200", [3])],
    }
    table = drift(str(recordings.deviating))
    assert table.returncode == 1
    assert "drift: 10 difference(s) in 3 of 3 operation(s), 3 exchange(s)" in table.stdout
    row = next(line for line in table.stdout.splitlines() if "/result/created_on" in line).split()
    assert row == ["type", "/result/created_on", "string", "integer", "1"]


def test_a_malformed_recording_exits_2_naming_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"method": "GET", "path": "/x", "response": {"status": 200}}\nnot json\n', encoding="utf-8")
    done = drift(str(path))
    assert done.returncode == 2 and f"{path}:2: not a JSON line" in done.stderr and "Traceback" not in done.stderr
