"""``mock-1flow send`` stops when asked: ``--deadline`` ends the whole command, Ctrl-C (on a
terminal, with the progress bar) and SIGTERM stop it promptly with a summary and a report,
at any point of the run; a messageId sent twice is reported as a duplicate."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.events.jsonl import write_jsonl

COMMAND = [sys.executable, "-c", "from mock_1flow.cli import main; main()"]


def write_events(tmp_path, events):
    path = tmp_path / "events.jsonl"
    with open(path, "wb") as stream:
        write_jsonl(events, stream)
    return path


def track_events(count, devices, prefix="d"):
    return [{"type": "track", "event": "Clicked", "anonymousId": f"{prefix}{i % devices}", "messageId": f"{prefix}-m{i}"}
            for i in range(count)]


@pytest.mark.one_flow_mock(faults=[{"path": "/v3/user", "latency_ms": 30000}])
def test_the_deadline_bounds_the_whole_command_when_requests_wait_for_a_connection(one_flow_mock, tmp_path):
    # 8 devices over 2 connections: requests queue for a connection. Each used to get the
    # whole deadline once it had one (4 waves of 2 s here); now the command ends near 2 s.
    path = write_events(tmp_path, track_events(16, devices=8))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme", "--url", one_flow_mock.url,
                                       "--deadline", "2", "--concurrency", "2", "--no-progress"])
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result.output
    rows = [line.split() for line in result.stdout.strip().splitlines()[1:]]
    assert rows == [["failed", "deadline", "16"], ["total", "16"]]
    assert elapsed < 2 + 2.5, elapsed  # the deadline plus the stop's grace; the bug took 8 s and more


def read_until(fd, wanted: bytes, seen: bytearray, timeout: float) -> bool:
    until = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                return wanted in seen
            if not chunk:
                break
            seen += chunk
    return wanted in seen


@pytest.mark.one_flow_mock(faults=[{"path": "/v3/track", "latency_ms": 60000}])
def test_ctrl_c_on_a_terminal_stops_with_a_summary_and_a_report(one_flow_mock, tmp_path):
    events = track_events(40, devices=20, prefix="tty")
    path = write_events(tmp_path, events)
    report = tmp_path / "outcomes.jsonl"
    pid, fd = pty.fork()
    if pid == 0:  # the child: send on a terminal, so the progress bar runs
        try:
            os.execv(sys.executable, [*COMMAND, "send", str(path), "--key", "oneflow_prod_acme", "--url",
                                      one_flow_mock.url, "--report", str(report)])
        finally:
            os._exit(127)
    seen = bytearray()
    try:
        assert read_until(fd, b"sending", seen, 60), seen.decode(errors="replace")
        until = time.monotonic() + 30  # every device registered: the /v3/track requests are in flight
        while len(one_flow_mock.requests(path="*/v3/user")) < 20 and time.monotonic() < until:
            time.sleep(0.05)
        os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it
        stopped = time.monotonic()
        read_until(fd, b"\n<never>", seen, 20)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    output = seen.decode(errors="replace")
    assert time.monotonic() - stopped < 15, output  # not the requests' 60 s
    assert os.waitstatus_to_exitcode(status) == 130, output
    assert "Aborted!" not in output and "Traceback" not in output
    assert "failed     interrupted" in output and "total" in output and "interrupted: the summary covers" in output
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(line["message_id"] for line in lines) == sorted(e["messageId"] for e in events)
    assert {line["reason"] for line in lines} == {"interrupted"}


def reading_stdin(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/syscall") as stream:
            return stream.read().split()[:2] == ["0", "0x0"]  # read(), file descriptor 0
    except OSError:
        return False


def test_ctrl_c_while_the_events_are_read_is_not_aborted(tmp_path):
    report = tmp_path / "outcomes.jsonl"
    report.write_text("old\n")
    process = subprocess.Popen([*COMMAND, "send", "-", "--key", "oneflow_prod_acme", "--report", str(report)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(b'{"type": "track", "event": "A", "anonymousId": "d", "messageId": "m"}\n')
    process.stdin.flush()  # stdin stays open: the command is reading it
    until = time.monotonic() + 30  # until its main thread waits in read(0, ...) (Linux: /proc/PID/syscall)
    while not reading_stdin(process.pid) and time.monotonic() < until:
        time.sleep(0.02)
    assert reading_stdin(process.pid)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    assert b"interrupted while reading -: nothing was sent" in stderr and b"Aborted" not in stderr
    assert report.read_text() == ""


def test_two_events_with_one_message_id_are_one_sent_and_one_duplicate(one_flow_mock, tmp_path):
    event = {"type": "track", "event": "Clicked", "anonymousId": "dup", "messageId": "same"}
    path = write_events(tmp_path, [event, {**event, "properties": {"again": True}}])
    report = tmp_path / "outcomes.jsonl"
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme", "--url", one_flow_mock.url,
                                       "--report", str(report)])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.strip().splitlines()[1:]]
    assert rows == [["sent", "-", "1"], ["dropped", "duplicate_message_id", "1"], ["total", "2"]]
    assert len(one_flow_mock.events("oneflow_prod_acme")) == 1  # what 1Flow stored: the report agrees
    assert sorted(json.loads(line)["status"] for line in report.read_text().splitlines()) == ["dropped", "sent"]
