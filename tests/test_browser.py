"""End to end in headless Chromium: the pages a neighbour, a dispatcher and a verifier use.

The live server runs the real site; tasks run on commit (tests/settings.py), which stands in
for the worker, and the tests also run the worker's delivery loop (`outbox.drain`) between
steps. Map tiles are switched off and every request that leaves the machine is refused, so
nothing here needs the internet. Screenshots go to var/screenshots/ for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from rapidresponse.alerts.compose import compose
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage
from rapidresponse.incidents.models import Incident, Report, State
from rapidresponse.incidents.queries import facts_of, preview_of
from rapidresponse.lib import geo
from tests.conftest import BOYLE, FAR, fresh_code, make_member, make_staff

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PASSWORD = "correct-horse-1"  # what tests.conftest.make_staff gives every staff user
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
WAIT_MS = 15_000  # how long to wait for something to show up, not a speed requirement

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Browser]:
    """Chromium with no map tiles. Playwright's sync API keeps an event loop running in this
    thread, so Django must be told that the test's own ORM calls here are fine."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM} (Debian package "
                    "'chromium'; .ci/run installs it)")
    settings.MAP_TILE_URL = ""
    expect.set_options(timeout=WAIT_MS)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            # The test's queries ran while Playwright's loop was running, on connections
            # that Django keeps apart from the usual ones: close them, or PostgreSQL
            # cannot drop the test database at the end.
            connections.close_all()


def new_context(browser: Browser, live_server: Any, viewport: ViewportSize,
                **options: Any) -> BrowserContext:
    """A separate person (own cookies) whose browser may reach only the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=viewport, **options)
    context.set_default_timeout(WAIT_MS)
    local = live_server.url.rstrip("/")

    def only_local(route: Any) -> None:
        if route.request.url.startswith(local) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_local)
    return context


def sign_in(context: BrowserContext, username: str, start: str = "/login/") -> Page:
    """Open `start` (a staff page sends a stranger to the sign-in form) and sign in: the
    password, then the code the authenticator app shows (computed from its secret)."""
    page = context.new_page()
    page.goto(start)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")
    expect(page.locator("input[name=code]")).to_be_visible()
    page.fill("input[name=code]", fresh_code(get_user_model().objects.get(username=username)))
    page.click("form button[type=submit].primary")
    expect(page.locator("header nav")).to_contain_text("Account")
    return page


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def spanish(text: str) -> str:
    """The Spanish catalogue's wording of a message (compiled .mo files)."""
    with translation.override("es"):
        return gettext(text)


def test_report_to_alert_to_all_clear_in_the_browser(browser, live_server, zone):
    make_staff("dispatcher1", "dispatcher")
    verifier_staff = make_staff("verifier1", "verifier", on_call=True, at=BOYLE,
                                phone="+13235550151")
    near_es = make_member("María", "es", phone="+12135550101")
    far_en = make_member("James", "en", phone="+18185550104", at=FAR)

    # The dispatcher has the console open before anything is reported.
    dispatcher = new_context(browser, live_server, DESKTOP)
    console = sign_in(dispatcher, "dispatcher1")
    console.goto("/console/")
    expect(console.locator("#queue")).to_contain_text("No open incidents.")
    console.evaluate("window.__sameDocument = true")

    # A neighbour reports from a phone, placing the pin with "Use my location".
    neighbour = new_context(browser, live_server, PHONE, is_mobile=True, has_touch=True,
                            permissions=["geolocation"],
                            geolocation={"latitude": BOYLE[0], "longitude": BOYLE[1]})
    form = neighbour.new_page()
    form.goto("/report/")
    form.click("button.use-location")
    expect(form.locator("#latitude")).to_have_value(f"{BOYLE[0]:.6f}")
    expect(form.locator("#map .leaflet-marker-icon")).to_be_visible()
    form.check("input[name=activity][value=arrests]")
    form.select_option("select[name=agency]", "ice")
    form.fill("input[name=uniform_text]", "POLICE ICE on vests")
    form.fill("input[name=size]", "4")
    form.fill("input[name=vehicles]", "2")
    form.fill("input[name=equipment_text]", "Two grey SUVs")
    form.fill("input[name=location_text]", "Cesar Chavez and Soto")
    screenshot(form, "report-phone")
    form.click("#report-form button[type=submit]")
    expect(form).to_have_url(f"{live_server.url}/report/thanks/")

    # It appears in the dispatcher's console without a reload (htmx polls the queue).
    incident = Incident.objects.get()
    row = console.locator(f"#queue tr[data-incident='{incident.pk}']")
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(row).to_contain_text("Arrests or detentions")
    assert console.evaluate("window.__sameDocument") is True, "the console page was reloaded"
    screenshot(console, "console-desktop")
    console.set_viewport_size(PHONE)
    screenshot(console, "console-phone")
    console.set_viewport_size(DESKTOP)

    row.locator("a").first.click()
    console.click("#request-verification")
    expect(console.locator("#incident-state")).to_have_text("Verifying")
    outbox.drain()

    # A verifier on call follows the link in the dispatch message, signs in, and confirms.
    dispatch = ConsoleMessage.objects.get(member=verifier_staff.member)
    assert f"/verify/{incident.pk}/" in dispatch.text
    verifier = new_context(browser, live_server, PHONE, is_mobile=True, has_touch=True)
    check = sign_in(verifier, "verifier1", start=f"/verify/{incident.pk}/")
    expect(check).to_have_url(f"{live_server.url}/verify/{incident.pk}/")
    screenshot(check, "verify-phone")
    check.check("input[name=outcome][value=confirmed]")
    check.click("form.outcome button[type=submit]")
    # Before anything is sent: the alert in both languages, who gets it, and the cost, on a
    # phone's screen without scrolling sideways; then "Confirm and send".
    expect(check.locator("#send-preview")).to_be_visible()
    expect(check.locator("#send-preview .bubble[lang=es]")).to_contain_text("VERIFICAD")
    reached = preview_of(incident, "alert").members  # the member nearby, and the verifier
    expect(check.locator("#send")).to_have_text(f"Confirm and send to {reached} members")
    fits(check)
    screenshot(check, "send-preview-phone")
    incident.refresh_from_db()
    assert incident.state == State.VERIFYING  # nothing sent yet
    check.click("#send")
    expect(check.locator(".flash")).to_contain_text("Your finding is recorded")
    outbox.drain()
    incident.refresh_from_db()
    assert incident.state == State.CONFIRMED

    # The Spanish-speaking member nearby has the alert in Spanish; the far member nothing.
    phone = console
    phone.goto(f"/console/phone/{near_es.pk}/")
    bubbles = phone.locator("#phone .bubble")
    expect(bubbles).to_have_count(1)
    expect(bubbles.first).to_have_attribute("lang", "es")
    expect(bubbles.first).to_contain_text("VERIFICAD")
    expect(bubbles.first).to_contain_text(compose("alert", facts_of(incident))["es"]["text"])
    screenshot(phone, "phone-es-alert-desktop")
    phone.goto(f"/console/phone/{far_en.pk}/")
    expect(phone.locator("#phone .empty")).to_be_visible()
    expect(phone.locator("#phone .bubble")).to_have_count(0)

    # The dispatcher resolves: the same member gets the all-clear, in Spanish.
    console.goto(f"/console/incidents/{incident.pk}/")
    console.click("#resolve")
    expect(console.locator("#send")).to_have_text(
        f"Resolve and send the all-clear to {reached} members")
    console.click("#send")
    expect(console.locator("#incident-state")).to_have_text("Resolved")
    screenshot(console, "incident-desktop")
    console.set_viewport_size(PHONE)
    screenshot(console, "incident-phone")
    console.set_viewport_size(DESKTOP)
    outbox.drain()
    phone.goto(f"/console/phone/{near_es.pk}/")
    expect(bubbles).to_have_count(2)
    all_clear = bubbles.nth(1)
    expect(all_clear).to_have_attribute("lang", "es")
    all_clear_es = compose("all_clear", facts_of(incident))["es"]["text"]
    assert all_clear_es != compose("all_clear", facts_of(incident))["en"]["text"]
    expect(all_clear).to_contain_text(all_clear_es)
    phone.set_viewport_size(PHONE)
    screenshot(phone, "phone-es-all-clear-phone")
    phone.goto(f"/console/phone/{far_en.pk}/")
    expect(phone.locator("#phone .bubble")).to_have_count(0)


def test_report_form_errors_are_in_spanish_and_keep_what_was_typed(browser, live_server):
    context = new_context(browser, live_server, PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto("/report/")
    page.click("header form.lang button[value=es]")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    page.fill("input[name=location_text]", "Calle Primera y Boyle")
    page.fill("input[name=size]", "3")
    page.fill("textarea[name=notes]", "Dos camionetas sin placas")
    page.click("#report-form button[type=submit]")

    where = spanish("Say where: put a pin on the map, use your location, or choose a "
                    "neighbourhood.")
    what = spanish("Choose what you saw.")
    assert what != "Choose what you saw.", "the Spanish catalogue is not compiled"
    main = page.locator("main")
    expect(main).to_contain_text(where)
    expect(main).to_contain_text(what)
    expect(page.locator("input[name=location_text]")).to_have_value("Calle Primera y Boyle")
    expect(page.locator("input[name=size]")).to_have_value("3")
    expect(page.locator("textarea[name=notes]")).to_have_value("Dos camionetas sin placas")
    screenshot(page, "report-errors-es-phone")
    assert not Incident.objects.exists()


def test_a_pin_dropped_on_the_map_places_the_report(browser, live_server):
    context = new_context(browser, live_server, PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto("/report/")
    page.click("#map")  # the middle of the map, which opens on central Los Angeles
    expect(page.locator("#map .leaflet-marker-icon")).to_be_visible()
    lat = float(page.input_value("#latitude"))
    lng = float(page.input_value("#longitude"))
    assert abs(lat - 34.05) < 0.01 and abs(lng - -118.25) < 0.01
    page.check("input[name=activity][value=patrol]")
    page.click("#report-form button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/report/thanks/")

    report = Report.objects.get()
    assert report.cell == geo.cell_for(lat, lng, django_settings.H3_REPORT_RESOLUTION)


def fits(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_new_verifier_sets_up_the_app_and_signs_in_on_a_phone(browser, live_server):
    from base64 import b32decode

    from django_otp.oath import totp

    make_staff("newphone", "verifier", second_factor=False)
    context = new_context(browser, live_server, PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto("/verify/")
    page.fill("input[name=username]", "newphone")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit].primary")

    # First the app: a QR code drawn by the site, and the secret as text.
    expect(page.locator("h1")).to_have_text("Set up your authenticator app")
    expect(page.locator(".qr svg")).to_be_visible()
    box = page.locator(".qr svg").bounding_box()
    assert box is not None and 150 <= box["width"] <= PHONE["width"]
    fits(page)
    screenshot(page, "second-factor-setup-phone")
    letters = page.inner_text("#secret").replace(" ", "")
    key = b32decode(letters + "=" * (-len(letters) % 8))
    page.fill("input[name=code]", f"{totp(key):06d}")
    page.click("form button[type=submit].primary")

    # Then the recovery codes, once, and on to the page that was asked for.
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    fits(page)
    screenshot(page, "second-factor-recovery-codes-phone")
    page.click("text=I have kept them: continue")
    expect(page).to_have_url(f"{live_server.url}/verify/")
    expect(page.locator("header nav")).to_contain_text("Account")

    # Signed out, the next sign-in is the password and the code from the app.
    page.click("header nav button:has-text('Sign out')")
    expect(page.locator("header nav")).not_to_contain_text("Account")
    again = sign_in(context, "newphone", start="/verify/")
    expect(again).to_have_url(f"{live_server.url}/verify/")
    fits(again)
    screenshot(again, "second-factor-sign-in-phone")
