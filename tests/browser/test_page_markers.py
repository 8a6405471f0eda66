"""What the admin page and ``--access-log`` say about an answer that is not 1Flow's contract:
a stub's override (its id, and where its answer breaks ``openapi.yaml``), and an exchange
``mock-1flow proxy`` found off the spec (side, pointer, reason), and which recording a
``serve --replay`` answer came from. Real servers, headless Chromium as in
``test_admin_page.py``: nobody reading the page can take an override for the contract.
"""

from __future__ import annotations

import json

import pytest
import requests

from mock_1flow.testing import ServedMock
from tests.browser.test_admin_page import ACME, TIMEOUT_MS, browser  # noqa: F401  (the browser fixture)
from tests.proxy.test_proxy import ADMIN, call, corpus, start_proxy, upstream  # noqa: F401  (the upstream fixture)
from tests.unit.test_serve import free_port, start, stop, wait_ready

OFF_SPEC_USER = {"success": 200, "message": "ok", "result": {"analytic_user_id": 42}}  # the spec: a string


@pytest.fixture(scope="module")
def mock():
    with ServedMock("--access-log") as served:
        yield served


@pytest.fixture()
def page(mock: ServedMock, browser):  # noqa: F811
    mock.reset()
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


def entry_of(page, entry_id: int):
    return page.locator(f"#entry-{entry_id}")


def test_a_stub_answer_shows_its_id_and_where_it_breaks_the_spec(mock: ServedMock, page) -> None:
    faithful = requests.get(f"{mock.base('us')}/v3/survey", headers=ACME, timeout=10).json()  # the mock's own answer
    mock.reset()
    broken = mock.add_stub({"status": 200, "json": OFF_SPEC_USER}, {"method": "POST", "path": "/v3/user"}, times=1)
    kept = mock.add_stub({"status": 200, "json": faithful}, {"method": "GET", "path": "/v3/survey"}, times=1)
    assert requests.post(f"{mock.base('us')}/v3/user", json={"user_id": "d-1"}, headers=ACME, timeout=10).json() == OFF_SPEC_USER
    assert requests.get(f"{mock.base('us')}/v3/survey", headers=ACME, timeout=10).status_code == 200
    requests.post(f"{mock.base('us')}/v3/user", json={"user_id": "d-2"}, headers=ACME, timeout=10)  # the mock's own
    user, survey, own = mock.requests()
    pointer, reason = user["off_spec"]
    assert pointer.startswith("/result") and survey["off_spec"] is None and own["stub"] is None

    page.goto(f"{mock.url}/__admin/")
    # the row: a marker that names the stub and says the answer breaks the spec, and where
    row = entry_of(page, user["id"])
    marker = row.locator("summary .stub")
    assert marker.inner_text() == broken["id"] and "not by the mock" in marker.get_attribute("title")
    verdict = row.locator("summary .verdict")
    assert verdict.inner_text() == "off spec" and reason in verdict.get_attribute("title")
    assert row.locator("summary code.pointer").inner_text() == pointer
    assert "off-spec" in row.get_attribute("class")
    # a stub that keeps the spec is still marked as an override
    in_spec = entry_of(page, survey["id"])
    assert in_spec.locator("summary .stub").inner_text() == kept["id"]
    assert in_spec.locator("summary .verdict").inner_text() == "in spec"
    assert "off-spec" not in in_spec.get_attribute("class") and "stubbed" in in_spec.get_attribute("class")
    # the mock's own answer carries no marker
    assert entry_of(page, own["id"]).locator(".stub, .violation").count() == 0
    assert "stubbed" not in entry_of(page, own["id"]).get_attribute("class")

    # the opened entry: the override, the pointer and the reason, not hidden under "more"
    row.locator("summary").click()
    override = row.locator("p.override")
    assert broken["id"] in override.locator(".stub-id").inner_text()
    assert override.locator(".off-spec-detail code.pointer").inner_text() == pointer
    assert override.locator(".off-spec-detail .reason").inner_text() == reason
    assert row.locator("pre.more").count() == 0 or '"stub"' not in row.locator("pre.more").inner_text()
    entry_of(page, survey["id"]).locator("summary").click()
    assert "keeps openapi.yaml's response schema" in entry_of(page, survey["id"]).locator("p.override").inner_text()

    # the access log: the stub and the pointer on the request's line (the SDK API's hot path) ...
    mock.line_with("POST /us/api/2021-06-15/v3/user 200 key=oneflow_prod_acme region=us")
    line = mock.line_with(f"stub={broken['id']}")
    assert "/v3/user 200 " in line and line.endswith(f"stub={broken['id']} off_spec={pointer}")
    assert mock.line_with(f"stub={kept['id']}").endswith(f"stub={kept['id']}")


def test_the_access_log_names_a_stub_on_a_flask_route_too(mock: ServedMock) -> None:
    mock.reset()
    stub = mock.add_stub({"status": 418, "body": "teapot"}, {"method": "POST", "path": "/v1/identify"}, times=1)
    response = requests.post(f"{mock.http_api_base('us')}/identify", json={"user_id": "u-1"},
                             headers={"api_key": "oneflow_prod_acme"}, timeout=10)
    assert (response.status_code, response.text) == (418, "teapot")
    entry = mock.requests()[-1]
    assert entry["stub"] == stub["id"] and entry["off_spec"][0] == ""
    line = mock.line_with(f"stub={stub['id']}")
    assert " 418 " in line and line.endswith(f"stub={stub['id']} off_spec=(root)")


def test_a_proxied_exchange_off_the_spec_shows_its_violations_and_its_replay_which_recording_answered(upstream: int, browser, tmp_path) -> None:  # noqa: F811
    stub = {"request": {"method": "POST", "path": "/v3/user"}, "response": {"status": 200, "json": OFF_SPEC_USER}}
    assert call(upstream, "POST", "/__admin/stubs", json.dumps(stub).encode(), ADMIN)[0] == 201
    port = free_port()
    url = f"http://127.0.0.1:{upstream}"
    recording = tmp_path / "rec.jsonl"
    process = start_proxy("--port", str(port), "--upstream", url, "--http-api-upstream", url, "--access-log",
                          "--record", str(recording))
    try:
        wait_ready(port, process)
        assert corpus(port, "ios-add-user")[1]["result"]["analytic_user_id"] == 42  # passed on as it came
        corpus(port, "android-list-surveys")  # faithful: no violation
        corpus(port, "ios-add-user")  # recorded twice: its replay says which recording answered
        bad, good, _ = call(port, "GET", "/__admin/requests")[1]["requests"]
        violation = bad["violations"][0]
        assert violation["side"] == "response" and violation["pointer"].startswith("/result") and good["violations"] is None

        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"http://127.0.0.1:{port}/__admin/")
        row = entry_of(page, bad["id"])
        assert "violating" in row.get_attribute("class")
        marker = row.locator("summary .violation")
        assert marker.inner_text() == "✗ off spec"
        assert row.locator("summary code.pointer").inner_text() == f"response {violation['pointer']}"
        assert violation["reason"] in marker.get_attribute("title")
        assert entry_of(page, good["id"]).locator(".violation").count() == 0
        row.locator("summary").click()
        cells = row.locator("table.violations tr").nth(1).locator("td")
        assert cells.all_inner_texts() == ["response", violation["pointer"], violation["reason"]]
        page.close()
    finally:
        call(upstream, "DELETE", "/__admin/stubs", headers=ADMIN)
        stop(process)
    log = process.stdout.read()
    line = next(line for line in log.splitlines() if "POST /api/2021-06-15/v3/user 200" in line and "violations=" in line)
    assert line.endswith(f"violations=response:{violation['pointer']}")

    # the recording replayed: the page shows which recording answered, on the row and in the entry
    port = free_port()
    replay = start("--port", str(port), "--replay", str(recording))
    try:
        wait_ready(port, replay)
        assert corpus(port, "ios-add-user")[1]["result"]["analytic_user_id"] == 42
        note = call(port, "GET", "/__admin/requests")[1]["requests"][-1]["warning"]
        assert note.startswith("replayed") and "2 recordings match" in note
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"http://127.0.0.1:{port}/__admin/")
        row = page.locator("#entries details.entry").first
        assert row.locator("summary .warning").get_attribute("title") == note
        row.locator("summary").click()
        assert row.locator(".sections p.warning").inner_text() == note
        page.close()
    finally:
        stop(replay)
