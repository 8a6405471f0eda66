"""The projects file: the documented shape loads; a malformed one is refused naming line and field."""

from __future__ import annotations

import pytest

from mock_1flow.app import create_app
from mock_1flow.server.projects import ProjectsFileError, load_projects, parse_projects

GOOD = """\
plans:
  free: {regions: [us]}
  enterprise: {regions: [us, eu]}
projects:
  - {key: oneflow_prod_acme, name: Acme, region: us, plan: free}
  - {key: oneflow_prod_globex, name: Globex, region: eu, plan: enterprise}
"""


def test_the_documented_shape_loads():
    config = parse_projects(GOOD)
    assert config.plans["enterprise"].regions == ("us", "eu")
    assert config.projects["oneflow_prod_globex"].region == "eu"


def test_the_embedded_default_loads():
    config = load_projects()
    assert "oneflow_prod_acme" in config.projects and config.path.name == "projects.yaml"


def test_a_downgraded_project_loads():
    text = GOOD + "  - {key: oneflow_old, name: Old, region: eu, plan: free}\n"
    assert parse_projects(text).projects["oneflow_old"].plan == "free"


@pytest.mark.parametrize(
    "text, words",
    [
        (GOOD.replace("region: eu, plan: enterprise", "region: ap, plan: enterprise"), ["line 6", "projects[1].region", "ap"]),
        (GOOD.replace("name: Acme, ", ""), ["line 5", "projects[0].name", "required"]),
        (GOOD.replace("plan: free}", "plan: gold}"), ["line 5", "projects[0].plan", "unknown plan 'gold'"]),
        (GOOD.replace("{regions: [us]}", "{regions: []}"), ["line 2", "plans.free.regions"]),
        (GOOD + "  - {key: oneflow_prod_acme, name: Dup, region: us, plan: free}\n", ["line 7", "duplicate project key"]),
        (GOOD.replace("projects:", "projectz:"), ["projects", "required"]),
        (GOOD + "sources:\n  - {write_key: wk, project: oneflow_nobody}\n", ["line 8", "sources[0].project"]),
        ("plans: [\n", ["line", "not valid YAML"]),
        ("", ["empty"]),
    ],
)
def test_malformed_files_name_line_and_field(text, words):
    with pytest.raises(ProjectsFileError) as error:
        parse_projects(text, "projects.yaml")
    for word in words:
        assert word in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(ProjectsFileError, match="cannot read"):
        load_projects(tmp_path / "none.yaml")


def test_app_uses_a_user_projects_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD.replace("oneflow_prod_acme", "oneflow_prod_mine"))
    client = create_app(projects_file=path).test_client()
    keys = [p["key"] for p in client.get("/__admin/projects").json["projects"]]
    assert keys == ["oneflow_prod_mine", "oneflow_prod_globex"]


def test_source_mappings_are_checked_at_load(tmp_path):
    (tmp_path / "bad.json").write_text('[{"name": "B", "subscribe": "type = ", "partnerAction": "trackEvent", "mapping": {}}]')
    path = tmp_path / "projects.yaml"
    path.write_text(GOOD + "sources:\n  - {write_key: wk, project: oneflow_prod_acme, mappings: bad.json}\n")
    with pytest.raises(ProjectsFileError) as error:
        create_app(projects_file=path)
    assert "sources[0].mappings" in str(error.value) and "'B'" in str(error.value)


def test_ingest_uses_a_source_s_own_mappings(tmp_path):
    (tmp_path / "mine.json").write_text(
        '[{"name": "Rename", "subscribe": "type = \\"track\\"", "partnerAction": "trackEvent",'
        ' "mapping": {"event_name": {"@template": "seg_{{event}}"}, "anonymousId": {"@path": "$.anonymousId"}}}]'
    )
    path = tmp_path / "projects.yaml"
    path.write_text(GOOD + "sources:\n  - {write_key: wk, project: oneflow_prod_acme, mappings: mine.json}\n")
    client = create_app(projects_file=path).test_client()
    body = {"writeKey": "wk", "batch": [{"type": "track", "event": "Buy", "anonymousId": "d", "messageId": "m"}]}
    assert client.post("/v1/batch", json=body).status_code == 200
    events = client.get("/__admin/projects/oneflow_prod_acme/events").json["events"]
    assert [e["name"] for e in events] == ["seg_Buy"]
