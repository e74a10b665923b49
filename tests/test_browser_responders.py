"""In headless Chromium at 390 px: a responder sets their availability and opens their
calendar link (tests/test_browser.py has the browser set-up)."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rapidresponse.responders.models import ResponderProfile
from tests.responders_support import responder, shift
from tests.test_browser import PHONE, browser, new_context, screenshot, sign_in

assert browser  # the fixture, used by name below
pytestmark = pytest.mark.browser


def test_a_responder_sets_availability_and_opens_the_calendar_link_on_a_phone(
        browser, live_server, zone):
    staff = responder("ana", phone="+13235550195")
    shift(zone, "legal_observer", staff, starts="18:00", ends="06:00")
    context = new_context(browser, live_server, PHONE)
    page = sign_in(context, "ana", start="/responder/")
    expect(page.locator("h1")).to_have_text("My shifts and availability")
    expect(page.locator("#availability-now")).to_have_text("You are available.")
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    back_on = timezone.localdate() + timedelta(days=3)
    page.check("input[name=availability][value=away]")
    page.fill("input[name=back_on]", back_on.isoformat())
    page.click("#save-availability")
    expect(page.locator("#availability-now")).to_contain_text("You are away until")
    assert ResponderProfile.objects.get(staff=staff).away_until is not None

    page.click("#make-feed")
    link = page.locator("#feed-url")
    expect(link).to_be_visible()
    url = link.input_value()
    assert "/shifts/" in url and url.endswith(".ics")
    expect(page.locator("button[data-copy=feed-url]")).to_be_visible()  # JavaScript's copy
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "responder-phone")

    feed_path = url.split("://", 1)[1].split("/", 1)[1]
    response = page.request.get(f"{live_server.url}/{feed_path}")
    assert response.status == 200
    calendar = icalendar.Calendar.from_ical(response.body())
    summaries = [str(e["summary"]) for e in calendar.walk("VEVENT")]
    assert summaries and summaries[0].startswith("On call: Legal observer, Boyle Heights")

    page.click("#revoke-feed")
    expect(page.locator("#make-feed")).to_be_visible()
    assert page.request.get(f"{live_server.url}/{feed_path}").status == 404
    context.close()
