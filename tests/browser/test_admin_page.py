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

    # reset: the journal empties
    page.click("#reset")
    page.wait_for_selector("#journal .empty")
    assert mock.requests() == []
    page.close()
    assert SCREENSHOT.stat().st_size > 10_000
