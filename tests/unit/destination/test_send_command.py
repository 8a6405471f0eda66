"""``mock-1flow send``: events through the destination to a mock, a summary, the exit status."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import click
import pytest
from click.testing import CliRunner

from mock_1flow.cli import main
from mock_1flow.events import generate_events
from mock_1flow.events.jsonl import write_jsonl


def write_events(tmp_path, events):
    path = tmp_path / "events.jsonl"
    with open(path, "wb") as stream:
        write_jsonl(events, stream)
    return path


def test_send_to_the_mock_prints_a_summary(one_flow_mock, tmp_path):
    events = generate_events(60, seed=4)
    path = write_events(tmp_path, events)
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme", "--url", one_flow_mock.url])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["outcome", "reason", "events"] and lines[-1].split() == ["total", "60"]
    rows = [line.split() for line in lines[1:-1]]
    assert sum(int(row[-1]) for row in rows) == 60
    sent = sum(int(row[-1]) for row in rows if row[0] == "sent")
    tracked = [e for e in events if e["type"] == "track"]  # the web profile: Track Event and Identify User only
    assert len(one_flow_mock.events("oneflow_prod_acme")) == len(tracked)
    assert sent >= len(tracked)


def test_failures_exit_non_zero_with_the_error_code(one_flow_mock, tmp_path):
    path = write_events(tmp_path, [{"type": "track", "event": "A", "anonymousId": "d", "messageId": "m"}])
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_nobody", "--url", one_flow_mock.url])
    assert result.exit_code == 1
    assert "failed" in result.output and "404 unknown_key" in result.output


def test_bad_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "track"}\n{nope\n')
    result = CliRunner().invoke(main, ["send", str(path), "--key", "k"])
    assert result.exit_code == 2 and "line 2" in result.output


def test_custom_mappings(one_flow_mock, tmp_path):
    mappings = tmp_path / "mappings.json"
    mappings.write_text(json.dumps([{
        "name": "Orders only", "subscribe": 'type = "track" and event = "Order Completed"', "partnerAction": "trackEvent",
        "mapping": {"event_name": {"@case": {"operator": "lower", "value": {"@path": "$.event"}}},
                    "anonymousId": {"@path": "$.anonymousId"}, "properties": {"@path": "$.properties"}},
    }]))
    events = [{"type": "track", "event": "Order Completed", "anonymousId": "d", "messageId": "m1"},
              {"type": "track", "event": "Viewed", "anonymousId": "d", "messageId": "m2"}]
    path = write_events(tmp_path, events)
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme", "--url", one_flow_mock.url,
                                       "--mappings", str(mappings)])
    assert result.exit_code == 0, result.output
    assert "no_matching_mapping" in result.output
    assert [e["name"] for e in one_flow_mock.events("oneflow_prod_acme")] == ["order completed"]


def test_bad_mappings_are_a_usage_error(tmp_path):
    mappings = tmp_path / "mappings.json"
    mappings.write_text(json.dumps([{"name": "X", "subscribe": "type =", "partnerAction": "trackEvent", "mapping": {}}]))
    path = write_events(tmp_path, [])
    result = CliRunner().invoke(main, ["send", str(path), "--key", "k", "--mappings", str(mappings)])
    assert result.exit_code == 2 and "'X'" in result.output and "cannot parse trigger" in result.output


def test_events_from_stdin(one_flow_mock):
    lines = "\n".join(json.dumps({"type": "track", "event": "A", "anonymousId": "d", "messageId": f"m{i}"})
                      for i in range(3))
    result = CliRunner().invoke(main, ["send", "-", "--key", "oneflow_prod_acme", "--url", one_flow_mock.url],
                                input=lines + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == ["sent", "-", "3"]
    assert len(one_flow_mock.events("oneflow_prod_acme")) == 3


def test_the_table_lists_sent_then_dropped_then_failed(one_flow_mock, tmp_path):
    one_flow_mock.add_fault(path="/v3/track", status=503)
    events = [
        {"type": "identify", "anonymousId": "d", "userId": "u", "messageId": "i"},
        {"type": "identify", "anonymousId": "d", "messageId": "n"},
        {"type": "group", "anonymousId": "d", "groupId": "g", "messageId": "g"},
        {"type": "track", "event": "A", "anonymousId": "d", "messageId": "t"},
    ]
    path = write_events(tmp_path, events)
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme", "--url", one_flow_mock.url,
                                       "--max-retries", "1"])
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.strip().splitlines()[1:-1]]
    assert rows == [["sent", "-", "1"], ["dropped", "no_user_id", "1"], ["dropped", "unsubscribed_type", "1"],
                    ["failed", "503", "injected_fault", "1"]]
    assert len([r for r in one_flow_mock.requests() if r["path"].endswith("/v3/track")]) == 2


def test_a_line_that_is_not_an_object_names_its_line_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type": "track"}\n\n[1, 2]\n')
    result = CliRunner().invoke(main, ["send", str(path), "--key", "k"])
    assert result.exit_code == 2 and "line 3: a Segment event must be a JSON object" in result.output


def test_bad_settings_are_usage_errors(tmp_path):
    path = write_events(tmp_path, [])
    result = CliRunner().invoke(main, ["send", str(path), "--key", " "])
    assert result.exit_code == 2 and "projectApiKey is required" in result.output
    result = CliRunner().invoke(main, ["send", str(path), "--key", "k", "--url", "localhost:8080"])
    assert result.exit_code == 2 and "url must be an http(s) URL" in result.output
    result = CliRunner().invoke(main, ["send", str(tmp_path / "missing.jsonl"), "--key", "k"])
    assert result.exit_code == 2 and "cannot read" in result.output


def track_events(count, device="d"):
    return [{"type": "track", "event": "A", "anonymousId": f"{device}{i % 3}", "messageId": f"m{i}"} for i in range(count)]


def test_the_default_url_is_the_local_mock(monkeypatch, tmp_path):
    from mock_1flow.cli import send as send_module

    probed = []

    def unreachable(url):
        probed.append(url)
        raise click.ClickException(f"cannot reach {url} (Connection refused).")

    monkeypatch.setattr(send_module, "probe", unreachable)
    path = write_events(tmp_path, track_events(1))
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme"])
    assert probed == ["http://127.0.0.1:8080/us/api/2021-06-15"]
    assert result.exit_code == 1 and "cannot reach http://127.0.0.1:8080/us/api/2021-06-15" in result.output


def test_an_unreachable_url_fails_fast_with_the_url_and_the_reason(tmp_path):
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    path = write_events(tmp_path, track_events(5))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["send", str(path), "--key", "k", "--url", f"http://127.0.0.1:{port}"])
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert f"cannot reach http://127.0.0.1:{port}/us/api/2021-06-15 (Connection refused)" in result.output
    assert "Traceback" not in result.output


def test_report_progress_lines_and_the_mocks_message(one_flow_mock, tmp_path):
    path = write_events(tmp_path, track_events(7))
    report = tmp_path / "outcomes.jsonl"
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_nobody", "--url", one_flow_mock.url,
                                       "--report", str(report), "--progress-every", "0"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(line["message_id"] for line in lines) == sorted(f"m{i}" for i in range(7))
    assert {(line["status"], line["reason"], line["http_status"], line["error"]) for line in lines} == \
        {("failed", "404 unknown_key", 404, "unknown_key")}
    assert "progress: 7/7 events done (sent 0, dropped 0, failed 7)" in result.stderr
    message = one_flow_mock.requests()[0]["response"]["message"]
    assert f"failed 404 unknown_key: /v3/user: HTTP 404 {message}" in result.stderr


def test_the_deadline_fails_what_was_not_sent(one_flow_mock, tmp_path):
    one_flow_mock.add_fault(path="/v3/user", latency_ms=3000)
    path = write_events(tmp_path, track_events(6))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme", "--url", one_flow_mock.url,
                                       "--deadline", "0.5", "--concurrency", "1"])
    assert time.monotonic() - started < 2.5
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.strip().splitlines()[1:]]
    assert rows == [["failed", "deadline", "6"], ["total", "6"]]


def test_profile_option(one_flow_mock, tmp_path):
    path = write_events(tmp_path, [{"type": "screen", "name": "Home", "anonymousId": "d", "messageId": "s"},
                                   {"type": "page", "name": "Pricing", "anonymousId": "d", "messageId": "p"}])
    result = CliRunner().invoke(main, ["send", str(path), "--key", "oneflow_prod_acme", "--url", one_flow_mock.url,
                                       "--profile", "ios"])
    assert result.exit_code == 0, result.output
    assert [e["name"] for e in one_flow_mock.events("oneflow_prod_acme")] == ["Home"]
    assert ["dropped", "no_matching_mapping", "1"] in [line.split() for line in result.stdout.splitlines()]


def test_help_has_an_example_and_every_option_help():
    result = CliRunner().invoke(main, ["send", "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output and "mock-1flow send events.jsonl" in result.output
    from mock_1flow.cli.send import send as command

    assert all(option.help for option in command.params if isinstance(option, click.Option))


@pytest.mark.parametrize("args, message", [
    (["--deadline", "-1"], "--deadline"),
    (["--report", "/missing/dir/out.jsonl"], "cannot write"),
    (["--profile", "tv"], "'tv' is not one of"),
    (["--batch-size", "0"], "--batch-size"),
])
def test_bad_options_exit_2_with_what_to_fix(tmp_path, args, message):
    path = write_events(tmp_path, track_events(1))
    result = CliRunner().invoke(main, ["send", str(path), "--key", "k", *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


@pytest.mark.one_flow_mock(faults=[{"path": "/v3/user", "latency_ms": 20000}])  # its own: the held requests outlive it
def test_sigterm_prints_a_partial_summary(one_flow_mock, tmp_path):
    path = write_events(tmp_path, track_events(9, device="sigterm"))
    process = subprocess.Popen(
        [sys.executable, "-c", "from mock_1flow.cli import main; main()", "send", str(path), "--key", "oneflow_prod_acme",
         "--url", one_flow_mock.url, "--progress-every", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not [  # a slow request of an earlier test may land in this journal
            r for r in one_flow_mock.requests() if r["path"].endswith("/v3/user")
            and str((r.get("body") or {}).get("user_id", "")).startswith("sigterm")]:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    rows = [line.split() for line in stdout.strip().splitlines()[1:]]
    assert rows[-1] == ["total", "9"] and ["failed", "interrupted", "9"] in rows
    assert "interrupted: the summary covers the events handled so far" in stderr and "Traceback" not in stderr


def test_an_api_that_goes_away_mid_run_stops_the_run(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def accept_the_probe_then_close():
        connection, _ = listener.accept()
        connection.close()
        listener.close()

    import threading

    thread = threading.Thread(target=accept_the_probe_then_close)
    thread.start()
    path = write_events(tmp_path, track_events(9))
    result = CliRunner().invoke(main, ["send", str(path), "--key", "k", "--url", f"http://127.0.0.1:{port}",
                                       "--max-retries", "0", "--concurrency", "1"])
    thread.join()
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.strip().splitlines()[1:]]
    assert rows == [["failed", "transport_error", "3"], ["failed", "unreachable", "6"], ["total", "9"]]
    assert f"cannot reach http://127.0.0.1:{port}/us/api/2021-06-15 (Connection refused): stopped" in result.stderr


def test_send_collects_garbage_less_often_and_restores_the_thresholds():
    import gc

    from mock_1flow.cli.send import fewer_collections

    before = gc.get_threshold()
    with pytest.raises(KeyboardInterrupt):
        with fewer_collections(young=12_345):
            assert gc.get_threshold()[0] == 12_345
            raise KeyboardInterrupt
    assert gc.get_threshold() == before
