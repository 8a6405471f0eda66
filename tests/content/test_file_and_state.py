"""Content from the projects file (a path per project, or inline), restored by
``POST /__admin/reset``, and carried by the state document (``GET/PUT /__admin/state``,
``serve --state-file``)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import requests

from mock_1flow import content
from mock_1flow.server.projects import ProjectsFileError
from mock_1flow.testing import MockServer, ServedMock

from .conftest import result

CHECKOUT = content.survey("Order Completed", question="How was checkout?")
SIGNUP = content.survey("Signed Up", kind="nps")
NEWS = content.announcement("Dark mode", category="New")


def projects_file(folder: Path, inline_surveys: object = None) -> Path:
    (folder / "content").mkdir(exist_ok=True)
    (folder / "content" / "acme-surveys.json").write_text(json.dumps(content.surveys_document([CHECKOUT])))
    (folder / "content" / "acme-news.json").write_text(json.dumps(content.announcements_document([NEWS])))
    inline = inline_surveys if inline_surveys is not None else content.surveys_document([SIGNUP], content.throttling(active=True, global_seconds=60))
    path = folder / "projects.yaml"
    path.write_text(textwrap.dedent(f"""\
        plans:
          free: {{regions: [us]}}
        projects:
          - key: acme
            name: Acme
            region: us
            plan: free
            surveys: content/acme-surveys.json
            announcements: content/acme-news.json
          - key: initech
            name: Initech
            region: us
            plan: free
            surveys: {json.dumps(inline)}
          - {{key: plain, name: Plain, region: us, plan: free}}
        """))
    return path


@pytest.fixture
def file_mock(tmp_path: Path):
    with MockServer(projects_file=projects_file(tmp_path)) as mock:
        yield mock


def ids(mock: MockServer, key: str) -> list[str]:
    return [s["_id"] for s in result(mock, key, "/v3/survey")["result"]]


def test_content_from_a_path_and_inline_is_served_and_reset_restores_it(file_mock: MockServer):
    assert ids(file_mock, "acme") == [CHECKOUT["_id"]]
    assert result(file_mock, "acme", "/v3/announcements/inbox", ids=NEWS.detail["id"])["result"] == [NEWS.detail]
    initech = result(file_mock, "initech", "/v3/survey")
    assert [s["_id"] for s in initech["result"]] == [SIGNUP["_id"]]
    assert initech["throttlingMobileSDKConfig"]["globalTime"] == 60
    # a project without its own: the fixtures; initech has no announcements of its own either
    assert ids(file_mock, "plain") == ["64b7c0de5f1e2a0012ab34cd", "64b7c0de5f1e2a0012ab35ef"]
    assert len(result(file_mock, "initech", "/v3/announcements")["result"]["announcements"]["inbox"]) == 2

    file_mock.set_surveys("acme", [SIGNUP])
    file_mock.set_surveys("plain", [CHECKOUT])
    assert ids(file_mock, "acme") == [SIGNUP["_id"]]
    file_mock.reset()
    assert ids(file_mock, "acme") == [CHECKOUT["_id"]]
    assert ids(file_mock, "plain") == ["64b7c0de5f1e2a0012ab34cd", "64b7c0de5f1e2a0012ab35ef"]


def test_file_content_a_real_sdk_cannot_decode_stops_the_start_naming_line_client_model_field(tmp_path: Path):
    bad = content.surveys_document([content.survey("Order Completed")])
    del bad["surveys"][0]["screens"][0]["buttons"][0]["title"]
    with pytest.raises(ProjectsFileError) as refused:
        MockServer(projects_file=projects_file(tmp_path, bad))
    message = str(refused.value)
    assert "line 14: projects[1].surveys" in message
    assert "/surveys/0/screens/0/buttons/0/title: the 1flow-ios-sdk SDK cannot decode it (model Button)" in message


def test_a_missing_content_file_is_named(tmp_path: Path):
    path = projects_file(tmp_path)
    (tmp_path / "content" / "acme-news.json").unlink()
    with pytest.raises(ProjectsFileError, match=r"line 9: projects\[0\]\.announcements: .*cannot read .*acme-news\.json"):
        MockServer(projects_file=path)


def test_the_state_document_carries_content_to_another_mock(file_mock: MockServer, tmp_path: Path):
    file_mock.set_surveys("plain", [CHECKOUT])
    state = file_mock.admin("state")
    assert set(state["parts"]["content"]) == {"acme", "initech", "plain"}
    assert state["parts"]["content"]["plain"] == {"surveys": content.surveys_document([CHECKOUT])}

    with MockServer() as other:  # the embedded projects: loading replaces them and their content
        other.admin("state", "PUT", json=state)
        assert other.admin("state") == state
        assert ids(other, "plain") == [CHECKOUT["_id"]]
        assert ids(other, "acme") == [CHECKOUT["_id"]]


def test_a_snapshot_with_undecodable_content_changes_nothing(file_mock: MockServer):
    state = file_mock.admin("state")
    bad = json.loads(json.dumps(state))
    bad["parts"]["content"]["plain"] = {"surveys": content.surveys_document([content.survey("X")])}
    del bad["parts"]["content"]["plain"]["surveys"]["surveys"][0]["screens"][0]["buttons"][0]["title"]
    bad["state"] = {"acme": {"sessions": 3}}
    reply = requests.put(f"{file_mock.url}/__admin/state", json=bad, timeout=10)
    assert reply.status_code == 400
    assert "/parts/content/plain/surveys/surveys/0/screens/0/buttons/0/title: the 1flow-ios-sdk SDK" in reply.json()["message"]
    orphan = json.loads(json.dumps(state))
    orphan["parts"]["content"]["nobody"] = {}
    reply = requests.put(f"{file_mock.url}/__admin/state", json=orphan, timeout=10)
    assert (reply.status_code, reply.json()["error"]) == (400, "invalid_request")
    assert file_mock.admin("state") == state


def test_a_snapshot_without_content_keeps_the_file_content(file_mock: MockServer):
    file_mock.set_surveys("acme", [SIGNUP])
    state = file_mock.admin("state")
    del state["parts"]["content"]
    file_mock.admin("state", "PUT", json=state)
    assert ids(file_mock, "acme") == [CHECKOUT["_id"]]
    # without acme, its file content is not exported, so the document loads back as it is
    state["projects"] = [p for p in state["projects"] if p["key"] != "acme"]
    file_mock.admin("state", "PUT", json=state)
    again = file_mock.admin("state")
    assert set(again["parts"]["content"]) == {"initech"}
    file_mock.admin("state", "PUT", json=again)


def test_serve_state_file_keeps_content_across_a_restart(tmp_path: Path):
    state_file = tmp_path / "state.json"
    with ServedMock("--state-file", str(state_file)) as first:
        first.set_surveys("oneflow_prod_acme", [CHECKOUT])
    with ServedMock("--state-file", str(state_file)) as second:
        assert ids(second, "oneflow_prod_acme") == [CHECKOUT["_id"]]  # type: ignore[arg-type]
