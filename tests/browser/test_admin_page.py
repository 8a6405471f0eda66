"""The live page at ``/__admin/`` in a real browser: Debian's Chromium, headless, driven by
Playwright (pointed at the installed binary; Playwright's own browser download is never
used). It starts ``mock-1flow serve``, sends traffic, and checks what the page shows and
does; the screenshot is saved to ``build/screenshots/admin-page.png``.

A missing Chromium fails the test (the README's test command installs it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import requests

from mock_1flow.testing import ServedMock

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "build" / "screenshots" / "admin-page.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ACME = {"one_flow_key": "oneflow_prod_acme"}
TIMEOUT_MS = 10_000


def chromium_path() -> str:
    path = os.environ.get("MOCK_1FLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is missing: install Debian's package (apt-get install -y chromium), "
                    "as the README's test command does, or set MOCK_1FLOW_CHROMIUM")
    return path


@pytest.fixture(scope="module")
def mock():
    with ServedMock("--access-log") as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def send_traffic(mock: ServedMock) -> None:
    base = mock.base("us")
    device = requests.post(f"{base}/v3/user", json={"user_id": "device-1"}, headers=ACME, timeout=10).json()
    requests.post(f"{base}/v3/track", headers=ACME, timeout=10, json={
        "user_id": device["result"]["analytic_user_id"],
        "events": [{"name": "Order Completed", "time": 1764000000, "plt": "w", "_id": "0123456789abcdef01234567",
                    "parameters": {"revenue": 42}}]})
    requests.post(f"{base}/v3/user", json={"user_id": "d"}, headers={"one_flow_key": "oneflow_prod_nobody"}, timeout=10)
    requests.post(f"{mock.url}/v1/track", timeout=10, json={
        "writeKey": "segment_wk_acme", "userId": "user-7", "anonymousId": "device-7", "event": "Plan Upgraded"})
    mock.add_fault(path="/v3/survey", status=503, times=1)
    requests.get(f"{base}/v3/survey", headers=ACME, timeout=10)
    mock.add_fault(path="/v3/announcements", status=500)


def test_the_admin_page_shows_the_mock_live(mock: ServedMock, browser) -> None:
    send_traffic(mock)
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{mock.url}/__admin")  # the banner's link (without the trailing slash)
    entries = page.locator("#journal details.entry")

    # the journal: every API call, newest first, with status, key and fault
    recorded = mock.requests()
    assert entries.count() == len(recorded) >= 6
    assert entries.first.locator(".status").inner_text() == "503"
    assert "fault-1" in entries.first.locator(".fault").inner_text()

    # an entry opens to its request body and response
    track = page.locator("details.entry", has=page.locator(".path", has_text="/v3/track")).filter(
        has_not=page.locator(".via"))
    track.locator("summary").click()
    assert '"Order Completed"' in track.locator("pre.body").inner_text()
    assert '"success": 200' in track.locator("pre.response").inner_text()

    # the Segment call links to the 1Flow calls it made, and back
    segment = page.locator("details.entry", has=page.locator(".path", has_text="/v1/track"))
    calls = segment.locator(".calls a")
    assert calls.count() >= 2
    via = page.locator("a.via").first
    assert "via segment: segment_wk_acme" in via.inner_text()
    via.click()
    assert segment.evaluate("el => el.open")

    # filters: status, then path
    page.fill("input[name=status]", "404")
    page.wait_for_function("() => [...document.querySelectorAll('#journal details.entry')]"
                           ".every(e => e.dataset.status === '404')")
    assert entries.count() == 1 and "unknown_key" in entries.first.inner_text()
    page.fill("input[name=status]", "")
    page.fill("input[name=path]", "*/v3/track")
    page.wait_for_function("() => document.querySelectorAll('#journal details.entry').length === 2")  # direct + via
    page.fill("input[name=path]", "")
    page.fill("input[name=fault]", "*")
    page.wait_for_function("() => document.querySelectorAll('#journal details.entry').length === 1")
    page.fill("input[name=fault]", "")

    # live: a new request appears without reloading; open entries stay open
    track.locator("summary").click() if not track.evaluate("el => el.open") else None
    requests.post(f"{mock.base('eu')}/v3/user", json={"user_id": "eu-device"},
                  headers={"one_flow_key": "oneflow_prod_globex"}, timeout=10)
    page.wait_for_function("() => document.querySelector('#journal details.entry .project').textContent"
                           " === 'oneflow_prod_globex'")
    assert page.locator("#journal details.entry[open]").count() >= 1

    # projects with their users and events
    acme = page.locator("#project-oneflow_prod_acme")
    assert "2 users" in acme.locator(".users-count").inner_text()
    acme.locator("summary").click()
    assert "Order Completed" in acme.locator("table.events").inner_text()
    assert "Plan Upgraded" in acme.locator("table.events").inner_text()

    # faults in force, and the button that clears them
    assert page.locator("tr.fault-row").count() == 2
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.click("#clear-faults")
    page.wait_for_selector("#no-faults")
    assert mock.admin("faults")["faults"] == []

    # reset asks first: dismissed, nothing happens; accepted, the journal empties
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("#reset")
    page.wait_for_function("() => true")
    assert asked and "Reset the mock?" in asked[0] and mock.requests() != []
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset")
    page.wait_for_selector("#journal .empty")
    assert mock.requests() == []
    page.close()
    assert SCREENSHOT.stat().st_size > 10_000


def track(session: requests.Session, mock: ServedMock, n: int) -> None:
    response = session.post(f"{mock.base('us')}/v3/track", headers=ACME, timeout=10, json={
        "user_id": "0123456789abcdef01234567",
        "events": [{"name": f"Step {n}", "time": 1764000000 + n, "plt": "w", "_id": f"{n:024x}"}]})
    assert response.status_code in (200, 404)  # 404: the user is unknown after a reset; journaled alike


@pytest.fixture()
def fresh(mock: ServedMock, browser):
    """A reset mock, and a page on it (closed after)."""
    mock.reset()
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


def rows_shown(page) -> int:
    return page.locator("#entries details.entry").count()


def test_an_open_entry_stays_in_place_while_requests_arrive(mock: ServedMock, fresh) -> None:
    page, session = fresh, requests.Session()
    for n in range(40):
        track(session, mock, n)
    page.goto(f"{mock.url}/__admin/")
    assert rows_shown(page) == 40
    entry = page.locator("#entry-" + page.locator("#entries details.entry").nth(15).get_attribute("data-id"))
    entry.locator("summary").click()
    page.locator("#entries").evaluate("el => { el.scrollTop = 200; }")
    # select some text in the open entry's body
    page.evaluate("""() => { const pre = document.querySelectorAll('#entries details.entry')[15].querySelector('pre.body');
                             getSelection().selectAllChildren(pre); }""")
    before = entry.evaluate("el => el.getBoundingClientRect().top")
    selected = page.evaluate("() => getSelection().toString()")
    assert '"Step' in selected
    for n in range(40, 60):
        track(session, mock, n)
    page.wait_for_function("() => document.querySelectorAll('#entries details.entry').length === 60")
    # the same place on screen (scrollTop lands on whole device pixels, rows are fractional)
    assert abs(entry.evaluate("el => el.getBoundingClientRect().top") - before) < 1
    assert entry.evaluate("el => el.open")
    assert page.evaluate("() => getSelection().toString()") == selected
    assert page.locator("#entries").evaluate("el => el.scrollTop") > 200  # the new rows went above
    newest = page.locator("#entries details.entry").first
    assert newest.get_attribute("data-id") == str(mock.requests()[-1]["id"])


def test_pause_holds_the_list_and_resume_fetches_what_arrived(mock: ServedMock, fresh) -> None:
    page, session = fresh, requests.Session()
    track(session, mock, 1)
    page.goto(f"{mock.url}/__admin/")
    assert rows_shown(page) == 1
    page.click("#pause")
    assert page.locator("#pause").inner_text() == "Resume" and "paused" in page.locator("#live").inner_text()
    for n in range(2, 6):
        track(session, mock, n)
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "/ui/journal" in r.url else None)
    page.evaluate("() => poll()")  # what the page's timer runs each second: nothing while paused
    assert rows_shown(page) == 1 and fetched == []
    page.click("#pause")
    page.wait_for_function("() => document.querySelectorAll('#entries details.entry').length === 5")
    page.wait_for_function("() => document.getElementById('live').textContent.startsWith('live')")


def test_load_more_pages_back_past_the_first_page(mock: ServedMock, fresh) -> None:
    page, session = fresh, requests.Session()
    for n in range(230):
        track(session, mock, n)
    page.goto(f"{mock.url}/__admin/")
    assert rows_shown(page) == 200
    page.click("#load-more")
    page.wait_for_function("() => document.querySelectorAll('#entries details.entry').length === 230")
    ids = [int(i) for i in page.locator("#entries details.entry").evaluate_all("els => els.map(e => e.dataset.id)")]
    assert ids == sorted((r["id"] for r in mock.requests()), reverse=True)
    assert page.locator("#load-more").is_hidden()
    assert "230 matching · showing 230" in page.locator("#journal-counts").inner_text()


def test_columns_line_up_and_times_are_local(mock: ServedMock, fresh) -> None:
    page, session = fresh, requests.Session()
    track(session, mock, 1)
    requests.post(f"{mock.base('us')}/v3/user", json={"user_id": "d"}, headers={"one_flow_key": "oneflow_prod_nobody"}, timeout=10)
    page.goto(f"{mock.url}/__admin/")
    lefts = page.locator("#journal .row").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => Math.round(c.getBoundingClientRect().left)))")
    assert len(lefts) == 3 and lefts[0] == lefts[1] == lefts[2]  # header and both rows
    shown = page.locator("#entries time.time").first
    expected = shown.evaluate("""el => new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit',
        second: '2-digit', fractionalSecondDigits: 3, hourCycle: 'h23'}).format(new Date(el.getAttribute('datetime')))""")
    assert shown.inner_text() == expected and not shown.inner_text().endswith("Z")


def test_a_fault_and_a_project_added_from_the_page_take_effect(mock: ServedMock, fresh) -> None:
    page = fresh
    page.goto(f"{mock.url}/__admin/")
    writes: list[dict[str, str]] = []
    page.on("request", lambda r: writes.append(r.headers) if r.method != "GET" else None)

    form = page.locator("#add-fault")
    form.locator("input[name=path]").fill("/v3/survey")
    form.locator("input[name=status]").fill("302")  # not a fault status (faults answer 4xx/5xx): the mock's error is shown
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#add-fault .form-result.error")
    assert "400" in form.locator(".form-result").inner_text() and "/status" in form.locator(".form-result").inner_text()
    assert mock.admin("faults")["faults"] == []
    form.locator("input[name=status]").fill("503")
    form.locator("input[name=times]").fill("1")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#add-fault .form-result.ok")
    [fault] = mock.admin("faults")["faults"]
    assert fault["rule"]["path"] == "/v3/survey" and fault["rule"]["status"] == 503 and fault["rule"]["times"] == 1
    page.wait_for_selector(f"tr.fault-row[data-id='{fault['id']}']")
    assert requests.get(f"{mock.base('us')}/v3/survey", headers=ACME, timeout=10).status_code == 503

    page.locator("#add-project-panel summary").click()
    project = page.locator("#add-project")
    project.locator("input[name=key]").fill("oneflow_test_pageapp")
    project.locator("input[name=name]").fill("Page app")
    project.locator("select[name=region]").select_option("eu")
    project.locator("select[name=plan]").select_option("enterprise")
    project.locator("button[type=submit]").click()
    page.wait_for_selector("#add-project .form-result.ok")
    page.wait_for_selector("#project-oneflow_test_pageapp")
    answer = requests.post(f"{mock.base('eu')}/v3/user", json={"user_id": "d"},
                           headers={"one_flow_key": "oneflow_test_pageapp"}, timeout=10)
    assert answer.status_code == 200
    project.locator("button[type=submit]").click()  # the form was cleared: key and name are required
    assert project.locator("input[name=key]").evaluate("el => !el.validity.valid")
    project.locator("input[name=key]").fill("bad key")  # the spec's key has no spaces
    project.locator("input[name=name]").fill("Bad")
    project.locator("button[type=submit]").click()
    page.wait_for_selector("#add-project .form-result.error")
    assert "/key" in project.locator(".form-result").inner_text()
    assert "bad key" not in [p["key"] for p in mock.admin("projects")["projects"]]
    assert writes and all(h.get("content-type") == "application/json" and h.get("x-mock-1flow-admin") == "1"
                          for h in writes)


def test_a_stub_added_from_the_page_answers_counts_its_hits_and_is_removed(mock: ServedMock, fresh) -> None:
    page = fresh
    page.goto(f"{mock.url}/__admin/")
    page.locator("#add-stub-panel summary").click()
    form = page.locator("#add-stub")
    form.locator("input[name='request.method']").fill("GET")
    form.locator("input[name='request.path']").fill("/v3/survey")
    form.locator("input[name='request.project']").fill("oneflow_prod_acme")
    form.locator("input[name='response.status']").fill("401")
    form.locator("textarea[name='response.json']").fill('{"success": 401, "message": "from the page"')  # not JSON yet
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#add-stub .form-result.error")
    assert "response.json: not JSON" in form.locator(".form-result").inner_text()
    assert mock.admin("stubs")["stubs"] == []
    form.locator("textarea[name='response.json']").fill('{"success": 401, "message": "from the page"}')
    form.locator("input[name=times]").fill("5")
    form.locator("input[name=priority]").fill("2")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#add-stub .form-result.ok")
    [stub] = mock.admin("stubs")["stubs"]
    assert (stub["request"], stub["response"], stub["times"], stub["priority"]) == (
        {"method": "GET", "path": "/v3/survey", "project": "oneflow_prod_acme"},
        {"status": 401, "json": {"success": 401, "message": "from the page"}}, 5, 2)
    row = page.locator(f"tr.stub-row[data-id='{stub['id']}']")
    row.wait_for()
    assert row.locator(".stub-hits").inner_text() == "0"

    for _ in range(2):
        answer = requests.get(f"{mock.base('us')}/v3/survey", headers=ACME, timeout=10)
        assert (answer.status_code, answer.json()) == (401, {"success": 401, "message": "from the page"})
    page.wait_for_function(f"() => document.querySelector(\"tr.stub-row[data-id='{stub['id']}'] .stub-hits\")"
                           "?.textContent === '2'")

    row.locator("button.remove-stub").click()
    page.wait_for_selector("#no-stubs")
    assert mock.admin("stubs")["stubs"] == []
    assert requests.get(f"{mock.base('us')}/v3/survey", headers=ACME, timeout=10).status_code == 200

    for path in ("/v3/survey", "/v3/announcements"):  # clear all, as for faults
        assert requests.post(f"{mock.url}/__admin/stubs", json={"request": {"path": path}, "response": {"status": 500}},
                             timeout=10).status_code == 201
    page.wait_for_function("() => document.querySelectorAll('tr.stub-row').length === 2")
    page.locator("#clear-stubs").click()
    page.wait_for_selector("#no-stubs")
    assert mock.admin("stubs")["stubs"] == []


def test_the_layout_holds_at_800_pixels(mock: ServedMock, fresh) -> None:
    page, session = fresh, requests.Session()
    page.set_viewport_size({"width": 800, "height": 900})
    requests.post(f"{mock.base('us')}/v3/user", json={"user_id": "d"}, headers={"OneFlowKey": "x"}, timeout=10)  # a warning
    track(session, mock, 1)
    mock.add_fault(path="/v3/announcements", status=500)
    page.goto(f"{mock.url}/__admin/")
    page.locator("#add-project-panel summary").click()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 800
    boxes = page.locator("button").evaluate_all("""buttons => buttons.filter(b => b.offsetParent !== null).map(b => {
        const box = b.getBoundingClientRect();
        let clipped = false;
        for (let el = b.parentElement; el; el = el.parentElement) {
          const s = getComputedStyle(el), r = el.getBoundingClientRect();
          if (s.overflowX !== 'visible' && (box.left < r.left - 0.5 || box.right > r.right + 0.5)) clipped = true;
        }
        const text = document.createRange();
        text.selectNodeContents(b);
        const lines = new Set([...text.getClientRects()].map(r => Math.round(r.top))).size;
        return {text: b.textContent.trim(), left: box.left, right: box.right, clipped,
                fits: b.scrollWidth <= b.clientWidth && lines === 1};
      })""")
    assert {b["text"] for b in boxes} >= {"Pause", "Reset…", "Add fault", "Add project", "remove", "Clear all faults"}
    for box in boxes:
        assert box["left"] >= 0 and box["right"] <= 800 and not box["clipped"] and box["fits"], box
    page.screenshot(path=str(SCREENSHOT.with_name("admin-page-800.png")), full_page=True)
