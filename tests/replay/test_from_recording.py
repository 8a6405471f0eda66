"""``mock-1flow contracts from-recording``: a proxy recording (conftest.py) becomes a Pact file
shaped like the committed client contracts, and ``contracts verify`` checks it against the
mock: the faithful recording passes, the deviating one fails where the upstream deviated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mock_1flow.paths import CONTRACTS_DIR

ENV = {**os.environ, "PACT_DO_NOT_TRACK": "true"}


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_1flow", "contracts", *args], capture_output=True, text=True,
                          timeout=300, env=ENV, cwd=cwd)


def test_a_faithful_recording_makes_a_pact_the_mock_honours(recordings, tmp_path):
    (tmp_path / "pacts").mkdir()
    out = tmp_path / "pacts" / "my-ios-app-1flow-api.json"
    made = cli("from-recording", str(recordings.faithful), "--consumer", "my-ios-app", "-o", str(out))
    assert made.returncode == 0, made.stderr
    assert f"wrote {out}: 7 interaction(s) from 7 recorded exchange(s), my-ios-app -> 1flow-api" in made.stdout
    pact = json.loads(out.read_text())
    committed = json.loads((CONTRACTS_DIR / "1flow-ios-sdk-1flow-api.json").read_text())
    assert pact["metadata"]["pactSpecification"] == committed["metadata"]["pactSpecification"] == {"version": "4.0"}
    assert (pact["consumer"], pact["provider"]) == ({"name": "my-ios-app"}, {"name": "1flow-api"})
    add_user = pact["interactions"][0]
    assert add_user["description"] == "recorded-1: addUser"
    assert add_user["providerStates"] == [{"name": "a project", "params": {"key": "oneflow_prod_acme", "region": "us", "plan": "free"}}]
    assert add_user["request"]["path"] == "/us/api/2021-06-15/v3/user"
    assert add_user["request"]["headers"]["one_flow_key"] == ["oneflow_prod_acme"]
    rules = add_user["response"]["matchingRules"]["body"]
    # as the client contracts write them: ids by regex, other values by type, success literal
    assert rules["$.result.analytic_user_id"] == committed["interactions"][0]["response"]["matchingRules"]["body"]["$.result.analytic_user_id"]
    assert rules["$.message"]["matchers"] == [{"match": "type"}] and "$.success" not in rules
    assert rules["$.result.created_on"]["matchers"] == [{"match": "integer"}]
    assert pact["interactions"][6]["request"]["path"] == "/us/v1/identify"
    verified = cli("verify", "--contracts", str(out.parent))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "verified: all interactions passed" in verified.stdout


def test_a_deviating_recording_makes_a_pact_the_mock_fails(recordings, tmp_path):
    out = tmp_path / "deviating.json"
    assert cli("from-recording", str(recordings.deviating), "--consumer", "my-ios-app", "-o", str(out)).returncode == 0
    verified = cli("verify", "--contracts", str(out))
    assert verified.returncode == 1
    assert "verification FAILED: 3 of 3 interactions" in verified.stdout, verified.stdout


def test_a_malformed_recording_exits_2_naming_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"method": "GET"}\n', encoding="utf-8")
    done = cli("from-recording", str(path), "--consumer", "me", cwd=tmp_path)
    assert done.returncode == 2 and f"{path}:1: 'path' must be" in done.stderr and not list(tmp_path.glob("*.json"))
