"""The commands that talk to a running server: ``--url`` is the server root (a URL without
a scheme is taken as http://, a path is refused with the root to write), a dead URL is one
line, a report path that cannot be written stops the command before it runs, ``journal
--follow`` survives a restart of the mock, and ``fuzz --help`` needs no extra."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.testing import MockServer

COMMAND = [sys.executable, "-c", "from mock_1flow.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def register(mock, user_id: str) -> None:
    reply = requests.post(mock.base("us") + "/v3/user", json={"user_id": user_id},
                          headers={"one_flow_key": "oneflow_prod_acme"}, timeout=5)
    assert reply.status_code == 200


def test_a_url_without_a_scheme_is_taken_as_http():
    with MockServer() as mock:
        register(mock, "no-scheme")
        result = CliRunner().invoke(main, ["journal", "--json", "--url", mock.url.removeprefix("http://")])
        assert result.exit_code == 0, result.output
        assert [json.loads(line)["body"]["user_id"] for line in result.stdout.splitlines()] == ["no-scheme"]


@pytest.mark.parametrize("command", [["journal"], ["reset"], ["fuzz"], ["contracts", "verify"]])
@pytest.mark.parametrize("path", ["/__admin", "/us/api/2021-06-15", "/__admin/requests?limit=1"])
def test_a_url_with_a_path_says_the_url_is_the_server_root(command, path):
    result = CliRunner().invoke(main, [*command, "--url", f"http://127.0.0.1:8080{path}"])
    assert result.exit_code == 2, result.output
    assert "--url is the server root: write http://127.0.0.1:8080 (not http://127.0.0.1:8080" in result.output


@pytest.mark.parametrize("command", [["fuzz", "--region-key", "us=k"], ["fuzz"], ["contracts", "verify", "--no-states"],
                                     ["contracts", "verify"]])
def test_a_dead_url_is_one_clear_line(command):
    port = free_port()
    process = subprocess.run([*COMMAND, *command, "--url", f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                             timeout=60)
    assert process.returncode == 1, process.stderr
    assert process.stderr.strip().splitlines() == [
        f"Error: nothing answers at http://127.0.0.1:{port} (Connection refused): start the server "
        "(the mock: 'mock-1flow serve') or pass --url"]
    assert "urllib3" not in process.stderr + process.stdout and "Traceback" not in process.stderr


def test_an_unwritable_junit_path_stops_contracts_verify_before_it_runs(tmp_path):
    result = CliRunner().invoke(main, ["contracts", "verify", "--junit", str(tmp_path / "missing" / "junit.xml")])
    assert result.exit_code == 2
    assert "Invalid value for '--junit': cannot write" in result.output
    assert "verified" not in result.output and "interactions" not in result.output  # nothing was verified
    writable = tmp_path / "fuzz.xml"
    fuzz = CliRunner().invoke(main, ["fuzz", "--url", f"http://127.0.0.1:{free_port()}", "--junit", str(writable)])
    assert fuzz.exit_code == 1 and not writable.exists()  # checked, and nothing left behind


def test_fuzz_help_without_the_fuzz_extra():
    block = "import sys; sys.modules['schemathesis'] = None; from mock_1flow.cli import main; main()"  # as if not installed
    helped = subprocess.run([sys.executable, "-c", block, "fuzz", "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert "Fuzz URL with schemathesis" in helped.stdout and "Traceback" not in helped.stderr
    run = subprocess.run([sys.executable, "-c", block, "fuzz"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "pip install 'mock-1flow[fuzz]'" in run.stderr and "Traceback" not in run.stderr


class Lines:
    """A subprocess's output lines as they come."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(stream), daemon=True).start()

    def wait_for(self, predicate, timeout: float = 30) -> list[str]:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            found = [line for line in list(self.lines) if predicate(line)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"not seen in {timeout} s: {self.lines}")


def test_journal_follow_waits_for_a_restarted_mock():
    port = free_port()
    mock = MockServer(port=port).start()
    register(mock, "before")
    follow = subprocess.Popen([*COMMAND, "journal", "--follow", "--json", "--interval", "0.1", "--url", mock.url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = Lines(follow.stdout), Lines(follow.stderr)
        out.wait_for(lambda line: '"before"' in line)
        mock.stop()
        err.wait_for(lambda line: "waiting for the mock" in line)
        with MockServer(port=port) as again:
            register(again, "after-restart")
            out.wait_for(lambda line: '"after-restart"' in line)
            assert follow.poll() is None  # still following
            # said once for the outage (counted here: leaving this block stops the mock again)
            assert sum("waiting for the mock" in line for line in err.lines) == 1
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(timeout=20)
    assert follow.returncode == 0
    assert any("restarted: following its new journal" in line for line in err.lines)
    assert [json.loads(line)["body"]["user_id"] for line in out.lines] == ["before", "after-restart"]
