"""``POST /__admin/projects/{key}/reset`` forgets that project's users, events, responses,
content, faults and journal entries, and nothing of any other project."""

from __future__ import annotations

import requests

from mock_1flow import content
from mock_1flow.server.store import object_id
from mock_1flow.testing import MockServer

from ..conftest import EU_KEY, US_KEY
from .conftest import API, result

FIXTURE_SURVEYS = ["64b7c0de5f1e2a0012ab34cd", "64b7c0de5f1e2a0012ab35ef"]


def fill(mock: MockServer, key: str, region: str) -> None:
    """A user, an event, a survey response, own content and a fault scoped to ``key``."""
    headers = {"one_flow_key": key}
    base = f"{mock.url}/{region}{API}"
    user = requests.post(f"{base}/v3/user", json={"user_id": f"dev-{key}"}, headers=headers, timeout=10).json()["result"]
    analytic = user["analytic_user_id"]
    requests.post(f"{base}/v3/track", headers=headers, timeout=10, json={"user_id": analytic, "events": [
        {"name": "Order Completed", "time": 1764000000, "parameters": {}, "plt": "i",
         "_id": object_id(key, "event")}]}).raise_for_status()
    requests.post(f"{base}/v3/response", headers=headers, timeout=10, json={
        "analytic_user_id": analytic, "survey_id": FIXTURE_SURVEYS[0], "answers": [{"screen_id": "s1"}]}).raise_for_status()
    mock.set_surveys(key, [content.survey(f"Opened {key}")])
    mock.set_announcements(key, [content.announcement(f"News for {key}")])
    mock.add_fault(path="/v3/nothing-here", status=503, project=key)


def picture(mock: MockServer, key: str, region: str) -> dict:
    return {
        "users": mock.users(key), "events": mock.events(key), "responses": mock.responses(key),
        "surveys": mock.surveys(key), "announcements": mock.announcements(key),
        "faults": [f for f in mock.admin("faults")["faults"] if f["rule"]["project"] == key],
        "journal": [e["id"] for e in mock.requests(project=key)],
    }


def test_a_project_reset_forgets_only_that_project(mock: MockServer):
    fill(mock, US_KEY, "us")
    fill(mock, EU_KEY, "eu")
    unscoped = mock.add_fault(path="/v3/other", status=500)
    other_before = picture(mock, EU_KEY, "eu")
    assert all(other_before.values())

    mock.reset_project(US_KEY)

    mine = picture(mock, US_KEY, "us")
    assert mine["users"] == mine["events"] == mine["responses"] == mine["faults"] == mine["journal"] == []
    assert [s["_id"] for s in mine["surveys"]["surveys"]] == FIXTURE_SURVEYS  # back to the defaults
    assert len(mine["announcements"]["details"]) == 3
    assert picture(mock, EU_KEY, "eu") == other_before
    assert [f["id"] for f in mock.admin("faults")["faults"] if f["rule"]["project"] is None] == [unscoped["id"]]
    # the project stays and works
    assert [s["_id"] for s in result(mock, US_KEY, "/v3/survey")["result"]] == FIXTURE_SURVEYS


def test_project_reset_hooks_get_the_key_and_start_up_faults_come_back():
    with MockServer(faults=[{"path": "/v3/track", "status": 503, "project": US_KEY},
                            {"path": "/v3/track", "status": 500, "project": EU_KEY}]) as mock:
        seen: list[str] = []
        mock.runtime.on_project_reset.append(seen.append)
        mock.add_fault(path="/v3/user", status=502, project=US_KEY)
        mock.reset_project(US_KEY)
        assert seen == [US_KEY]
        rules = sorted((f["rule"]["project"], f["rule"]["status"]) for f in mock.admin("faults")["faults"])
        assert rules == [(US_KEY, 503), (EU_KEY, 500)]
