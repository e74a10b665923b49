"""In headless Chromium at 390 px, without JavaScript: a responder sends a photo carrying GPS
EXIF from the phone page; the page answers the SHA-256 of the bytes sent, and the shared copy
has no GPS (tests/test_browser.py has the browser set-up)."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from rapidresponse.evidence import storage
from rapidresponse.evidence.models import Evidence
from tests.conftest import BOYLE
from tests.responders_support import responder
from tests.test_browser import PHONE, browser, new_context, sign_in
from tests.test_evidence import GPS_IFD, jpeg_with_gps
from tests.zones_support import report

assert browser  # the fixture, used by name below
pytestmark = pytest.mark.browser


def test_a_responder_sends_a_photo_from_the_phone_page_without_javascript(
        browser, live_server, zone):
    responder("ana", zones=[zone])
    incident = report(BOYLE)
    context = new_context(browser, live_server, PHONE, java_script_enabled=False)
    page = sign_in(context, "ana", start="/responder/")
    page.click("#evidence-link a")
    page.click(f"a[href='/evidence/incidents/{incident.pk}/']")
    photo = jpeg_with_gps()
    page.set_input_files("input[name=file]", files=[
        {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.fill("textarea[name=note]", "Two vans at the corner")
    page.click("#evidence-send")
    expect(page.locator(".flash")).to_contain_text(hashlib.sha256(photo).hexdigest())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    evidence = Evidence.objects.get()
    shared = Image.open(io.BytesIO(b"".join(storage.read(evidence.shared_name))))
    assert not shared.getexif().get_ifd(GPS_IFD)
    context.close()
