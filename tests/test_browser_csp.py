"""The Content Security Policy in headless Chromium: the public, member and staff pages run
under it without a single violation (maps, the service worker, push, htmx), tiles load from
the configured host and images from any other host are refused."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from rapidresponse.delivery import outbox
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident
from tests.conftest import BOYLE, make_member, make_staff
from tests.test_browser import DESKTOP, PHONE, new_context, sign_in
from tests.test_browser import browser as browser  # the fixture, shared
from tests.test_pwa import sign_in_in_browser, wait_for_worker

pytestmark = pytest.mark.browser

# Every violation the page sees, as the event reports it (the listener is in place before
# any of the page's own code runs).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({directive: e.effectiveDirective, blocked: e.blockedURI,
                            sample: e.sample, source: e.sourceFile, line: e.lineNumber});
});
"""
CONSOLE_MARKS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy",
                 "Permissions policy", "Refused to")


class Watch:
    """CSP violations and policy complaints on the console, across the pages of a context."""

    def __init__(self, context: BrowserContext):
        self.console: list[str] = []
        context.add_init_script(LISTEN)
        context.on("page", self.follow)

    def follow(self, page: Page) -> None:
        page.on("console", lambda message: self.console.append(
            f"{page.url}: {message.text}") if any(
                mark in message.text for mark in CONSOLE_MARKS) else None)

    def check(self, page: Page) -> None:
        violations = page.evaluate("window.__violations || []")
        assert violations == [], f"{page.url}: {violations}"
        assert self.console == [], self.console


def visit(page: Page, watch: Watch, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("load")
    watch.check(page)


def confirmed_incident() -> Incident:
    report = do_submit_report(build_report_input(
        {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests", "agency": "ice"}),
        source="web", actor=None)
    checker = make_staff("checker", "verifier").user
    do_record_verification(report.incident, checker, "confirmed")
    outbox.drain()
    return Incident.objects.get(pk=report.incident_id)


PUBLIC_PAGES = ["/", "/report/", "/map/", "/rights/", "/join/", "/leave/", "/me/", "/login/",
                "/report/thanks/", "/api/v1/docs"]


def test_public_pages_run_under_the_policy(browser, live_server, zone):
    confirmed_incident()  # the map draws it
    context = new_context(browser, live_server, PHONE, is_mobile=True,
                          permissions=["geolocation"],
                          geolocation={"latitude": BOYLE[0], "longitude": BOYLE[1]})
    watch = Watch(context)
    page = context.new_page()
    for path in PUBLIC_PAGES:
        visit(page, watch, path)
    page.goto("/map/")
    expect(page.locator("#map path.leaflet-interactive")).to_have_count(1)
    page.locator("#map path.leaflet-interactive").click(force=True)
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Boyle Heights")
    # "Use my location" puts a pin on the report form.
    page.goto("/report/")
    page.click("button.use-location")
    expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()
    wait_for_worker(page)
    watch.check(page)


def test_member_pages_run_under_the_policy(browser, live_server, zone, inbox):
    member = make_member("Ana", "en", phone="+12135550123")
    context = new_context(browser, live_server, PHONE, is_mobile=True,
                          permissions=["notifications"])
    watch = Watch(context)
    page = context.new_page()
    sign_in_in_browser(page, member, "+12135550123")
    wait_for_worker(page)
    # push.js has run: it says whether this browser gets alerts, and shows one button.
    expect(page.locator("#push-panel .push-status")).not_to_be_empty()
    expect(page.locator("#push-on")).to_be_visible()
    expect(page.locator("#push-off")).to_be_hidden()
    page.click("#area-new .map")  # a pin for a new place
    expect(page.locator("#area-new .leaflet-marker-icon")).to_be_visible()
    watch.check(page)


def test_staff_pages_run_under_the_policy(browser, live_server, zone):
    make_staff("coordinator1", "coordinator")
    member = make_member("María", "es", phone="+12135550101")
    incident = confirmed_incident()
    context = new_context(browser, live_server, DESKTOP)
    watch = Watch(context)
    page = sign_in(context, "coordinator1")
    for path in [f"/console/incidents/{incident.pk}/", "/console/reports/new/",
                 "/console/members/", "/console/messages/", f"/console/phone/{member.pk}/",
                 "/console/deliveries/dead/", "/verify/", f"/verify/{incident.pk}/"]:
        visit(page, watch, path)
    # The console's queue is polled by htmx: wait for two polls.
    page.goto("/console/")
    for _ in range(2):
        with page.expect_response(lambda r: "/console/queue/" in r.url):
            pass
    expect(page.locator(f"#queue tr[data-incident='{incident.pk}']")).to_be_visible()
    watch.check(page)


def test_a_correction_shows_what_goes_out_then_is_sent(browser, live_server, zone):
    """The step before a correction is a page of its own (no script, no inline handler)."""
    make_staff("dispatcher1", "dispatcher")
    incident = confirmed_incident()
    context = new_context(browser, live_server, DESKTOP)
    watch = Watch(context)
    page = sign_in(context, "dispatcher1", start=f"/console/incidents/{incident.pk}/")
    page.click("#correction")
    expect(page.locator("#send-preview h1")).to_have_text(
        "Before you correct: the correction that will go out")
    watch.check(page)
    page.click("#send-preview a")  # cancel: nothing is sent
    expect(page.locator("#incident-state")).to_have_text("Confirmed")
    page.click("#correction")
    page.click("#send")
    expect(page.locator("#incident-state")).to_have_text("False alarm")
    watch.check(page)


# --- map tiles ----------------------------------------------------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a9a1e1"
    "d20000000049454e44ae426082")


class Tiles(http.server.BaseHTTPRequestHandler):
    served: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        Tiles.served.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def tile_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Tiles.served = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_tiles_load_from_the_configured_host_and_no_other(browser, live_server, settings, db,
                                                          tile_server):
    settings.MAP_TILE_URL = tile_server + "/{z}/{x}/{y}.png"
    other = tile_server.replace("127.0.0.1", "localhost")
    context = new_context(browser, live_server, PHONE)
    context.route(f"{tile_server}/**", lambda route: route.continue_())
    watch = Watch(context)
    page = context.new_page()
    page.goto("/map/")
    expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_visible()
    assert Tiles.served
    watch.check(page)

    page.evaluate("(src) => { const i = new Image(); i.src = src; document.body.append(i); }",
                  f"{other}/1/1/1.png")
    page.wait_for_function("window.__violations.length > 0")
    (violation,) = page.evaluate("window.__violations")
    assert violation["directive"] == "img-src"
    assert violation["blocked"].startswith(other)
    assert not any(path == "/1/1/1.png" for path in Tiles.served)


def test_an_inline_script_is_refused(browser, live_server, db):
    """The policy is really enforced: a script injected into the page does not run."""
    context = new_context(browser, live_server, PHONE)
    Watch(context)
    page = context.new_page()
    page.goto("/")
    page.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.__ran = true";
      document.body.append(s);
    }""")
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert json.dumps(page.evaluate("window.__violations")).count("script-src") >= 1
