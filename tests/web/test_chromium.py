"""A site using Segment (analytics.js 2.0, ``@segment/analytics-next`` from npm) in headless
Chromium, with 1Flow's web SDK routed to the mock as the README's recipe does: the calls
Segment's 1Flow Web (Actions) makes, before the script has loaded (the destination's stub
holds them) and after, reach the project's state and the journal.

1Flow Web (Actions) itself is not on npm (``@segment/analytics-browser-actions-1flow`` is
unpublished, and ``@segment/browser-destinations`` does not bundle it), so the page registers
a destination plugin that does what its code does: ``initScript`` (the stub that re-calls
``window._1flow`` after 5 ms, the script tag with ``data-api-key``), ``initialize``
returning ``window._1flow`` (the stub), ``trackEvent`` / ``identifyUser``'s ``perform``
(segmentio/action-destinations ``packages/browser-destinations/destinations/1flow/src/``).

The first test routes ``https://1flow.app/**`` to the mock as the README's recipe does; the
second loads the script from the mock's own URL, with the page on another loopback port, so
the browser's own CORS preflights reach the mock. Needs ``npm ci --prefix tests/browser/web``
(the README's test command runs it) and Chromium (a missing one fails).
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from mock_1flow.testing import ServedMock
from tests.browser.test_admin_page import browser  # noqa: F401  (the browser fixture)

ROOT = Path(__file__).resolve().parents[2]
ANALYTICS_NEXT = ROOT / "tests" / "browser" / "web" / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"
KEY = "oneflow_prod_acme"
SCRIPT_URL = "https://1flow.app/js/1flow.js"
TIMEOUT_S = 15

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title>
<script src="/ajs/index.js"></script>
<script>
// 1Flow Web (Actions) as its source has it (1flow.ts initScript; index.ts initialize;
// trackEvent / identifyUser perform), as an analytics.js destination plugin.
function initScript(projectApiKey) {
  ;(function (w, o, s, t, k, a, r) {
    ;(w._1flow = function (e, d, v) {
      s(function () { w._1flow(e, d, !v ? {} : v) }, 5)
    }),
      (a = o.getElementsByTagName('head')[0])
    r = o.createElement('script')
    r.async = 1
    r.setAttribute('data-api-key', k)
    r.src = t
    a.appendChild(r)
  })(window, document, setTimeout, '%(script_url)s', projectApiKey)
}
var client = null
var oneFlow = {
  name: '1Flow Web (Actions)', type: 'destination', version: '0.0.0',
  isLoaded: function () { return client !== null },
  load: function () { initScript('%(key)s'); client = window._1flow; return Promise.resolve() },
  track: function (ctx) {
    var e = ctx.event
    client('track', e.event, { userId: e.userId, anonymousId: e.anonymousId, properties: e.properties })
    return ctx
  },
  identify: function (ctx) {
    var e = ctx.event
    client('identify', e.userId, Object.assign({}, e.traits))
    return ctx
  }
}
window.pageErrors = []
window.addEventListener('error', function (event) { window.pageErrors.push(String(event.message)) })
window.addEventListener('unhandledrejection', function (event) { window.pageErrors.push(String(event.reason)) })
window.shop = AnalyticsNext.AnalyticsBrowser.load(
  { writeKey: 'segment_wk_shop', cdnSettings: { integrations: {} }, plugins: [oneFlow] })
</script></head><body>shop</body></html>
"""


@pytest.fixture(scope="module")
def mock() -> Iterator[ServedMock]:
    with ServedMock() as served:
        yield served


@pytest.fixture(scope="module")
def site(mock: ServedMock, tmp_path_factory) -> Iterator[str]:
    """The shop's pages and analytics-next's bundle, on a loopback port of their own."""
    if not (ANALYTICS_NEXT / "index.js").exists():
        pytest.fail("@segment/analytics-next is missing: run 'npm ci --prefix tests/browser/web' "
                    "(the README's test command does)")
    folder = tmp_path_factory.mktemp("site")
    (folder / "index.html").write_text(PAGE % {"script_url": SCRIPT_URL, "key": KEY})
    (folder / "direct.html").write_text(PAGE % {"script_url": mock.url + "/js/1flow.js", "key": KEY})
    (folder / "ajs").symlink_to(ANALYTICS_NEXT, target_is_directory=True)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def poll(page, check, what: str) -> Any:
    """``check()`` until it returns something truthy (or the deadline): the mock stores what
    the page sends asynchronously. Waits through the page, so Playwright keeps dispatching
    its route handlers meanwhile."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(50)


def to_mock(route, mock: ServedMock) -> None:
    """Answer a request for 1Flow's host from the mock (the README's recipe)."""
    parts = urlsplit(route.request.url)
    route.fulfill(response=route.fetch(url=mock.url + parts.path + (f"?{parts.query}" if parts.query else "")))


def calls(mock: ServedMock) -> list[tuple[Any, list[Any], str | None]]:
    return [(call["method"], call["args"], call["error"]) for call in mock.web_sdk_calls(KEY)]


def test_a_segment_site_in_chromium_reaches_the_mock_before_and_after_the_script_loads(mock, site, browser) -> None:  # noqa: F811
    context = browser.new_context()
    context.route("https://cdn.segment.com/**", lambda route: route.abort())  # no network but loopback
    context.route("https://api.segment.io/**", lambda route: route.abort())
    # the README's recipe: 1Flow's host answered by the mock
    context.route("https://1flow.app/**", lambda route: to_mock(route, mock))
    held = []
    context.route(SCRIPT_URL, lambda route: held.append(route))  # the script is held back: the page's first calls meet the stub
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_S * 1000)
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)

    page.goto(site + "/", wait_until="domcontentloaded")  # "load" would wait for the held script
    page.evaluate("""async () => {
        await window.shop.identify('user-42', {plan: 'pro', email: 'ada@example.com'})
        await window.shop.track('Order Completed', {revenue: 42, currency: 'EUR'})
        window._1flow('bogus', 1, 2)                          // an unknown method, through the stub
        window._1flow('track', 'Refund', 'not an object')     // a non-object third argument
    }""")
    page.wait_for_function("() => window._1flow && !window.__mock1flowWebSdk")  # still the stub
    assert len(held) == 1 and mock.requests(path="/js/1flow/calls") == []

    to_mock(held[0], mock)
    page.wait_for_function("() => !!window.__mock1flowWebSdk")
    page.evaluate("async () => { await window.shop.track('Checkout Started', {step: 2}) }")
    page.wait_for_function("() => window.__mock1flowWebSdk.idle().then(() => true)")

    recorded = poll(page, lambda: found if len(found := calls(mock)) >= 5 else None, "five _1flow calls")
    anonymous_id = next(args[1]["anonymousId"] for method, args, _ in recorded if method == "track" and not _)
    assert anonymous_id  # analytics.js's anonymous id, as the destination passes it
    track = {"userId": "user-42", "anonymousId": anonymous_id}
    # analytics.js hands events to a destination in its own time (a destination not loaded yet
    # gets them later): the calls are compared as a set, then the one made after the load
    assert sorted(map(repr, recorded)) == sorted(map(repr, [
        ("identify", ["user-42", {"plan": "pro", "email": "ada@example.com"}], None),
        ("track", ["Order Completed", {**track, "properties": {"revenue": 42, "currency": "EUR"}}], None),
        ("bogus", [1, 2], "unknown_method"),
        ("track", ["Refund", "not an object"], "invalid_argument"),
        ("track", ["Checkout Started", {**track, "properties": {"step": 2}}], None),
    ]))
    assert recorded[-1][1][0] == "Checkout Started"

    # the calls went out on the web profile's wire, into the project's state
    poll(page, lambda: len(mock.events(KEY, name="Checkout Started")) == 1, "Checkout Started stored")
    mock.assert_identified(KEY, "user-42", {"plan": "pro", "email": "ada@example.com"})
    order = mock.assert_tracked(KEY, "Order Completed", count=1)[0]
    assert order["plt"] == "w" and order["parameters"] == {"revenue": 42, "currency": "EUR"}
    assert mock.assert_tracked(KEY, "Refund", count=0) == [] and mock.assert_tracked(KEY, "bogus", count=0) == []
    assert len(mock.requests(path="/us/api/2021-06-15/v3/user", method="POST")) == 1  # once per device
    assert all(e["status"] == 200 for e in mock.requests(path="/us/api/2021-06-15/v3/*", method="POST"))

    # bad input: a console warning each, nothing thrown in the page
    assert any("unknown_method" in w or '"bogus"' in w for w in warnings), warnings
    assert any("third argument must be an object" in w for w in warnings), warnings
    assert page.evaluate("window.pageErrors") == []

    # a reload is the same device: no second /v3/user
    page.reload(wait_until="domcontentloaded")
    poll(page, lambda: len(held) > 1, "the reloaded page asking for the script")
    to_mock(held[1], mock)
    page.evaluate("async () => { await window.shop.track('Reloaded', {}) }")
    poll(page, lambda: len(mock.events(KEY, name="Reloaded")) == 1, "Reloaded stored")
    assert len(mock.requests(path="/us/api/2021-06-15/v3/user", method="POST")) == 1
    context.close()


def test_a_page_calling_the_mock_directly_is_preflighted_and_granted(mock, site, browser) -> None:  # noqa: F811
    """No Playwright routing here: while a route is set, Playwright answers CORS preflights
    itself (microsoft/playwright #3331, #2643), so only a page that loads the script from the mock's own URL shows that the
    browser's preflights reach the mock and are granted."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_S * 1000)
    since = max((e["id"] for e in mock.requests()), default=0)
    page.goto(site + "/direct.html")
    page.wait_for_function("() => !!window.__mock1flowWebSdk")
    page.evaluate("async () => { await window.shop.track('Direct Visit', {via: 'direct'}) }")
    poll(page, lambda: len(mock.events(KEY, name="Direct Visit")) == 1, "Direct Visit stored")
    page.evaluate("() => { const loop = {}; loop.self = loop; window._1flow('track', 'Cyclic', loop) }")
    entry = poll(page, lambda: [e for e in mock.requests(path="/js/1flow/calls") if e["id"] > since and e["error"]],
                 "the cyclic call")[0]
    assert entry["error"] == "unserializable_arguments" and entry["body"]["args"][0] == "Cyclic"
    preflights = [e for e in mock.requests(method="OPTIONS") if e["id"] > since]
    assert {e["path"] for e in preflights} >= {"/js/1flow/calls", "/us/api/2021-06-15/v3/track"}
    assert all(e["status"] == 204 for e in preflights)
    assert all(e["request_headers"]["access-control-request-method"] == "POST" for e in preflights)
    assert page.evaluate("window.pageErrors") == []
    context.close()
