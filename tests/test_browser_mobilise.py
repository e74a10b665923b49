"""From the alert to the spot, in headless Chromium: a dispatcher sends a legal observer, the
observer says YES by SMS (the signed inbound webhook, through the Twilio stub), checks in on
the phone page and sends a photo that carries GPS EXIF; the shared copy has no GPS and the
attorney's package lists the original's SHA-256."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from rapidresponse.accounts.models import Role
from rapidresponse.evidence import storage
from rapidresponse.evidence.models import Evidence
from tests.conftest import BOYLE, persona
from tests.responders_support import responder
from tests.sms_support import text_hotline
from tests.test_browser import DESKTOP, PHONE, new_context, sign_in
from tests.test_browser import browser as browser  # the fixture, shared
from tests.test_evidence import GPS_IFD, jpeg_with_gps
from tests.test_sms_keywords import twilio as twilio  # the Twilio stub
from tests.zones_support import report, two_zones

pytestmark = pytest.mark.browser
OBSERVER_PHONE = "+13235550161"


def test_a_legal_observer_is_sent_says_yes_checks_in_and_documents(browser, live_server,
                                                                    client, twilio, deliver):
    zones = two_zones()
    responder("ana", ("legal_observer",), at=(BOYLE[0] + 0.005, BOYLE[1]),
              phone=OBSERVER_PHONE, zones=[zones.boyle])
    persona("disp", Role.DISPATCHER, zones=[zones.boyle])
    incident = report(BOYLE)

    desk = new_context(browser, live_server, DESKTOP)
    console = sign_in(desk, "disp", start=f"/console/incidents/{incident.pk}/")
    console.select_option("#dispatch-form select[name=skill]", "legal_observer")
    console.fill("#dispatch-form input[name=count]", "1")
    console.click("#dispatch-send")
    expect(console.locator(".assignments")).to_contain_text("ana: Asked")

    deliver()
    [ask] = twilio.messages_to(OBSERVER_PHONE)
    assert "Reply YES" in ask.body and "Boyle Heights" in ask.body
    assert "You are going" in text_hotline(client, "YES", OBSERVER_PHONE)

    phone = new_context(browser, live_server, PHONE, is_mobile=True, has_touch=True)
    page = sign_in(phone, "ana", start="/responder/")
    page.click("text=I am here: check in")
    expect(page.locator(".dispatch").first).to_contain_text("Checked in")
    page.click("a.evidence-for-dispatch")
    photo = jpeg_with_gps()
    page.set_input_files("input[name=file]", files=[
        {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.fill("textarea[name=note]", "Two vans at the corner")
    page.click("#evidence-send")
    original_sha = hashlib.sha256(photo).hexdigest()
    expect(page.locator(".flash")).to_contain_text(original_sha)

    evidence = Evidence.objects.get()
    assert evidence.incident_id == incident.pk
    shared_bytes = b"".join(storage.read(evidence.shared_name))
    shared = Image.open(io.BytesIO(shared_bytes))
    assert not shared.getexif().get_ifd(GPS_IFD)
    assert hashlib.sha256(shared_bytes).hexdigest() != original_sha

    console.reload()
    expect(console.locator(".assignments")).to_contain_text("ana: Checked in")
    package = console.request.get(f"/evidence/incidents/{incident.pk}/package.zip")
    assert package.status == 200
    with zipfile.ZipFile(io.BytesIO(package.body())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        [entry] = manifest["files"]
        assert entry["sha256"] == original_sha
        assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == original_sha
    desk.close()
    phone.close()
