"""``mock-1flow send``: events through the destination to a mock, a summary, the exit status."""

from __future__ import annotations

import json

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
    lines = result.output.strip().splitlines()
    assert lines[0].split() == ["outcome", "reason", "events"] and lines[-1].split() == ["total", "60"]
    rows = [line.split() for line in lines[1:-1]]
    assert sum(int(row[-1]) for row in rows) == 60
    sent = sum(int(row[-1]) for row in rows if row[0] == "sent")
    tracked = [e for e in events if e["type"] in ("track", "page", "screen")]
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
    assert result.output.splitlines()[1].split() == ["sent", "-", "3"]
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
    rows = [line.split() for line in result.output.strip().splitlines()[1:-1]]
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
