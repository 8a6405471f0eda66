"""Profiles follow their runtimes' hooks: FIDELITY.md's hook table is what the code does, and a
Segment source's ``profile`` decides which event types reach its mappings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mock_1flow.app import create_app
from mock_1flow.destination.mapping import load_subscriptions
from mock_1flow.destination.profiles import EVENT_TYPES, HOOKS, PROFILES

FIDELITY = Path(__file__).resolve().parents[2] / "FIDELITY.md"
ROW = re.compile(r"^\| `(\w+)` \| ([a-z, ]+) \| (.+) \|$")
CATCH_ALL = load_subscriptions([{"name": f"{kind} as track", "subscribe": f'type = "{kind}"', "partnerAction": "trackEvent",
                                 "mapping": {"event_name": "seen", "properties": {}}} for kind in EVENT_TYPES])


def hook_table() -> dict[str, tuple[set[str], str]]:
    text = FIDELITY.read_text(encoding="utf-8")
    section = text[text.index("| profile | hooks | source |"):]
    rows = {}
    for line in section.splitlines()[2:]:
        found = ROW.match(line)
        if not found:
            break
        rows[found.group(1)] = ({kind.strip() for kind in found.group(2).split(",")}, found.group(3))
    return rows


def test_the_table_lists_every_profile_with_its_hooks_and_source():
    table = hook_table()
    assert set(table) == set(PROFILES)
    for name, (hooks, source) in table.items():
        assert hooks == set(HOOKS[name][0]), name
        assert source.strip(), name


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_mapping_runs_only_for_the_types_the_runtime_hands_over(name):
    """A subscription per event type, each triggered by its type: only the hooked types call the SDK."""
    profile = PROFILES[name]
    hooks, _ = hook_table()[name]
    for kind in EVENT_TYPES:
        event = {"type": kind, "messageId": f"m-{kind}", "anonymousId": "d", "userId": "u", "event": "E", "name": "N"}
        calls = profile.calls(event, CATCH_ALL)
        assert bool(calls) == (kind in hooks), (name, kind)


def test_the_browser_runtime_never_runs_a_screen_mapping():
    """The issue's case: a custom mapping triggered by screen fires under mobile, never under web."""
    event = {"type": "screen", "name": "Home", "anonymousId": "d", "messageId": "s"}
    assert PROFILES["web"].calls(event, CATCH_ALL) == []
    assert [c.target for c in PROFILES["mobile"].calls(event, CATCH_ALL)] == ["seen"]


def projects(tmp_path: Path, source: str) -> Path:
    (tmp_path / "screens.json").write_text(json.dumps([
        {"name": "Screens", "subscribe": 'type = "screen"', "partnerAction": "trackEvent",
         "mapping": {"event_name": {"@path": "$.name"}, "properties": {}}}]))
    path = tmp_path / "projects.yaml"
    path.write_text("plans: {free: {regions: [us]}}\nprojects:\n  - {key: oneflow_prod_acme, name: Acme, region: us, plan: free}\n"
                    f"sources:\n  - {source}\n")
    return path


@pytest.mark.parametrize("profile, stored", [(None, []), ("mobile", ["Home"])])
def test_a_segment_source_follows_its_profile_web_by_default(tmp_path, profile, stored):
    extra = f", profile: {profile}" if profile else ""
    app = create_app(projects_file=projects(tmp_path, f"{{write_key: wk, project: oneflow_prod_acme, mappings: screens.json{extra}}}"))
    client = app.test_client()
    response = client.post("/v1/screen", json={"writeKey": "wk", "anonymousId": "a", "name": "Home", "messageId": "s1"})
    assert response.status_code == 200
    assert [e["name"] for e in client.get("/__admin/projects/oneflow_prod_acme/events").json["events"]] == stored
    delivery = client.get("/__admin/deliveries", query_string={"message_id": "s1"}).json["deliveries"][0]
    if profile is None:
        assert (delivery["status"], delivery["reason"]) == ("dropped", "unsubscribed_type")
        assert "no screen calls" in delivery["detail"]
    else:
        assert delivery["status"] == "sent"


def test_an_unknown_profile_in_the_projects_file_is_refused_at_load(tmp_path):
    with pytest.raises(Exception, match="profile"):
        create_app(projects_file=projects(tmp_path, "{write_key: wk, project: oneflow_prod_acme, profile: desktop}"))
