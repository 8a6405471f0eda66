"""The ``mock-1flow`` command as a user meets it: help with examples, lazy sub-commands,
clear errors (exit 2, no traceback), ``journal``/``reset``, ``serve --port 0`` and the
access log, ``contracts verify`` filters and JUnit report."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import click
import pytest
import requests
from click.testing import CliRunner

from mock_1flow.cli import COMMANDS, main
from mock_1flow.paths import CONTRACTS_DIR
from mock_1flow.testing import MockServer, ServedMock

# `send` belongs to the destination's CLI work (its help and options are checked there).
OWN_COMMANDS = [name for name in COMMANDS if name != "send"]


def commands(group: click.Group, ctx: click.Context, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name in group.list_commands(ctx):
        if not prefix and name not in OWN_COMMANDS:
            continue
        command = group.get_command(ctx, name)
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found += commands(command, ctx, prefix + name + " ")
    return found


@pytest.mark.parametrize("name, command", commands(main, click.Context(main)), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_an_example_and_every_option_help(name, command):
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Example" in result.output, result.output
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"{name} {param.opts[0]} has no help"


def test_help_imports_no_subcommand():
    """`mock-1flow --help` loads click only: Flask, Faker, Pact and schemathesis wait."""
    code = ("import sys; from mock_1flow.cli import main\n"
            "try: main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('flask', 'faker', 'pact', 'schemathesis', 'requests', 'rich') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert all(name in result.stdout for name in COMMANDS)


def test_events_generate_to_a_missing_folder_is_exit_2():
    result = CliRunner().invoke(main, ["events", "generate", "-n", "1", "-o", "/missing/dir/x.jsonl"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot write /missing/dir/x.jsonl: No such file or directory" in result.output


@pytest.mark.parametrize("content, message", [
    ("{", "bad.json is not JSON"),
    ('{"consumer": {}}', "bad.json is not a Pact file: it needs a top-level 'interactions' list"),
    ('{"interactions": [{"request": {"method": "GET", "path": "/"}}]}',
     "bad.json: interaction 0 has no 'description'; Pact requires one"),
])
@pytest.mark.parametrize("command", ["list", "verify"])
def test_a_bad_pact_file_says_what_to_fix(tmp_path, content, message, command):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = CliRunner().invoke(main, ["contracts", command, "--contracts", str(bad)])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_verify_one_file_filtered_with_a_junit_report(tmp_path):
    junit = tmp_path / "pact.xml"
    pact = next(CONTRACTS_DIR.glob("*.json"))
    result = CliRunner().invoke(main, ["contracts", "verify", "--contracts", str(pact), "--description", "unknown (key|region)",
                                       "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output
    cases = ET.parse(junit).getroot().findall("./testsuite/testcase")
    assert sorted(c.get("name") for c in cases) == ["add a user in an unknown region", "add a user with an unknown key"]
    assert not ET.parse(junit).getroot().findall(".//failure")


def test_verify_by_state_and_failures_in_the_junit_report(tmp_path):
    junit = tmp_path / "pact.xml"
    result = CliRunner().invoke(main, ["contracts", "verify", "--state", "^no project$", "--error-profile", "backend",
                                       "--junit", str(junit)])
    assert result.exit_code == 1
    (failure,) = ET.parse(junit).getroot().findall(".//failure")
    assert "404" in failure.text and "401" in failure.text


def test_a_filter_that_matches_nothing_is_exit_2():
    result = CliRunner().invoke(main, ["contracts", "verify", "--description", "no such thing"])
    assert result.exit_code == 2 and "no interaction in" in result.output and "--description 'no such thing'" in result.output


def test_journal_and_reset_against_a_running_mock():
    with MockServer() as mock:
        requests.post(mock.base("us") + "/v3/user", json={"user_id": "d"}, headers={"one_flow_key": "oneflow_prod_acme"})
        requests.post(mock.base("eu") + "/v3/user", json={"user_id": "d"}, headers={"one_flow_key": "oneflow_prod_nobody"})
        table = CliRunner().invoke(main, ["journal", "--url", mock.url])
        assert table.exit_code == 0
        lines = table.output.splitlines()
        assert lines[0].split() == ["id", "time", "method", "path", "status", "key", "region", "ms", "error", "fault", "via"]
        assert "/us/api/2021-06-15/v3/user" in lines[1] and "oneflow_prod_acme" in lines[1]
        assert "404" in lines[2] and "unknown_key" in lines[2]
        only = CliRunner().invoke(main, ["journal", "--url", mock.url, "--status", "404", "--json"])
        assert [json.loads(line)["error"] for line in only.output.splitlines()] == ["unknown_key"]
        reset = CliRunner().invoke(main, ["reset", "--url", mock.url])
        assert reset.exit_code == 0 and mock.requests() == []
        empty = CliRunner().invoke(main, ["journal", "--url", mock.url])
        assert "no matching requests" in empty.output


def test_journal_says_when_no_mock_answers():
    result = CliRunner().invoke(main, ["journal", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "no mock answers at http://127.0.0.1:9" in result.output


def test_serve_port_0_shows_the_real_port_and_logs_each_request():
    with ServedMock("--access-log") as mock:
        assert not mock.url.endswith(":0")
        requests.get(mock.base("eu") + "/v3/survey", headers={"one_flow_key": "oneflow_prod_globex"}, timeout=5)
        mock.add_fault(path="/v3/track", status=503)
        requests.post(mock.base("us") + "/v3/track", json={}, headers={"one_flow_key": "oneflow_prod_acme"}, timeout=5)
        mock.stop()
    log = mock.output
    assert f"serving on {mock.url}" in log and f"admin: {mock.url}/__admin/" in log
    assert "GET /eu/api/2021-06-15/v3/survey 200 key=oneflow_prod_globex region=eu " in log
    assert "POST /us/api/2021-06-15/v3/track 503 key=oneflow_prod_acme region=us " in log and "fault=fault-1" in log


def test_journal_follow_prints_every_entry_of_a_burst_larger_than_limit():
    """--follow asks for everything after the last entry shown, so a burst of more than
    --limit requests between two polls is printed whole, in order."""
    key = {"one_flow_key": "oneflow_prod_acme"}
    with MockServer() as mock:
        requests.post(mock.base("us") + "/v3/user", json={"user_id": "first"}, headers=key)
        follow = subprocess.Popen([sys.executable, "-m", "mock_1flow", "journal", "--url", mock.url, "--follow",
                                   "--json", "--limit", "2", "--interval", "0.5"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert json.loads(follow.stdout.readline())["body"] == {"user_id": "first"}
            for index in range(12):
                requests.post(mock.base("us") + "/v3/user", json={"user_id": f"burst-{index}"}, headers=key)
            seen = [json.loads(follow.stdout.readline())["body"]["user_id"] for _ in range(12)]
        finally:
            follow.terminate()
            follow.wait(timeout=10)
    assert seen == [f"burst-{index}" for index in range(12)]
