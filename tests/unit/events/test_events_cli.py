"""``mock-1flow events generate``: JSON Lines, honoured options, clear errors, same bytes everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import orjson
import pytest
from click.testing import CliRunner

from mock_1flow.cli.events import events
from mock_1flow.events import dumps_event, generate_events, read_jsonl


def run(*args):
    return CliRunner().invoke(events, ["generate", *args], catch_exceptions=False)


def lines(output: bytes):
    return [orjson.loads(line) for line in output.splitlines(keepends=False) if line]


def test_writes_count_events_as_jsonl_to_stdout():
    result = run("--count", "25", "--seed", "7")
    assert result.exit_code == 0
    assert result.stdout_bytes.count(b"\n") == 25
    assert result.stdout_bytes == "".join(dumps_event(e) + "\n" for e in generate_events(25, 7)).encode()


def test_seed_is_honoured():
    assert run("--count", "5", "--seed", "1").stdout_bytes == run("--count", "5", "--seed", "1").stdout_bytes
    assert run("--count", "5", "--seed", "1").stdout_bytes != run("--count", "5", "--seed", "2").stdout_bytes


def test_options_reach_the_generator():
    result = run("-n", "300", "--seed", "3", "--types", "track=3,alias", "--anonymous-share", "0",
                 "--locale", "fr_FR")
    events_ = lines(result.stdout_bytes)
    counts = Counter(e["type"] for e in events_)
    assert set(counts) == {"track", "alias"} and counts["track"] > counts["alias"]
    assert all("userId" in e for e in events_)
    assert events_ == generate_events(300, 3, types={"track": 3, "alias": 1}, anonymous_share=0, locale="fr_FR")


def test_edge_cases_flag():
    plain = run("-n", "200", "--seed", "4").stdout_bytes
    edgy = run("-n", "200", "--seed", "4", "--edge-cases").stdout_bytes
    assert plain != edgy
    assert lines(edgy) == generate_events(200, 4, edge_cases=True)


def test_writes_a_file_with_a_progress_bar_on_stderr(tmp_path):
    target = tmp_path / "events.jsonl"
    result = run("--count", "1200", "--seed", "5", "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout_bytes == b""
    assert "1,200 events" in result.stderr and str(target) in result.stderr
    assert list(read_jsonl(target)) == generate_events(1200, 5)


def test_long_runs_show_progress_on_stderr_only():
    result = run("--count", "10000", "--seed", "0")
    assert result.stdout_bytes.count(b"\n") == 10_000
    assert "10,000 events" in result.stderr
    assert b"events ->" not in result.stdout_bytes


def test_short_runs_to_stdout_are_quiet():
    assert run("--count", "3").stderr == ""


@pytest.mark.parametrize("args, message", [
    (["--types", "track,clicks,views"],
     "unknown type(s) clicks, views; known: identify, track, page, screen, group, alias"),
    (["--types", "track=x"], "'track=x': WEIGHT must be a number, not 'x'"),
    (["--types", "track=0"], "at least one type with a positive weight"),
    (["--anonymous-share", "2"], "--anonymous-share"),
    (["--locale", "xx_XX"], "unknown Faker locale 'xx_XX'"),
    (["--count", "-1"], "--count"),
])
def test_bad_options_are_click_errors(args, message):
    result = CliRunner().invoke(events, ["generate", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_same_bytes_across_processes(tmp_path):
    """Nothing depends on hash randomisation, the clock or process state."""
    outputs = []
    for hash_seed in ("1", "2"):
        target = tmp_path / f"events-{hash_seed}.jsonl"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        code = ("from mock_1flow.cli.events import events; "
                f"events(['generate', '-n', '2000', '--seed', '13', '--edge-cases', '-o', r'{target}'])")
        subprocess.run([sys.executable, "-c", code], env=env, check=False, capture_output=True, timeout=120)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 2000
    assert outputs[0] == "".join(dumps_event(e) + "\n" for e in generate_events(2000, 13, edge_cases=True)).encode()
