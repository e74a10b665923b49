"""Provider errors never leave a phone number or email address behind: not in a delivery's
error, not in a contact point's reason, not on the dead-letter page, not in the logs. And
Twilio is asked to obfuscate the numbers it keeps."""

from __future__ import annotations

import logging

import pytest

from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.lib.redact import scrub
from rapidresponse.members.models import ContactPoint
from tests import test_twilio_outbound
from tests.conftest import make_member
from tests.test_members import all_stored_text
from tests.test_twilio_outbound import PHONE, confirm_alert, delivery_to

twilio = test_twilio_outbound.twilio  # the same Twilio stub fixture

NAMED = "The 'To' number +1 (213) 555-0101 is not a valid phone number. Email ana@example.org"


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("Twilio 400 (21211): The 'To' number +12135550101 is not valid",
     "Twilio 400 (21211): The 'To' number [number] is not valid"),
    ("recipient refused: ana.lopez@example.org", "recipient refused: [email]"),
    ("call (213) 555-0101 now", "call [number] now"),
    ("+44 20 7946 0958 is unreachable", "[number] is unreachable"),
    ("HTTP 503 after 30005 ms", "HTTP 503 after 30005 ms"),
])
def test_scrub_takes_out_numbers_and_addresses_and_keeps_codes(text, scrubbed):
    assert scrub(text) == scrubbed


def test_a_permanent_error_naming_the_recipient_is_stored_without_the_number(
        client, zone, verifier, twilio, deliver, caplog):
    member = make_member("Ana", "en", phone=PHONE)
    twilio.fail_to(PHONE, 400, code=21211, message=NAMED)
    caplog.set_level(logging.DEBUG)
    confirm_alert(client, verifier)
    deliver()
    delivery = delivery_to(member)
    assert delivery.status == Status.FAILED
    assert "21211" in delivery.error
    contact = ContactPoint.objects.get(member=member, kind="sms")
    assert contact.disabled_at is not None and "21211" in contact.disabled_reason
    stored = all_stored_text()
    for trace in ("2135550101", "555-0101", "ana@example.org"):
        assert trace not in stored
        assert trace not in caplog.text


def test_a_transient_error_naming_the_recipient_is_stored_without_it(
        client, zone, verifier, twilio, deliver, dispatcher, settings, caplog):
    settings.DELIVERY_MAX_ATTEMPTS = 1
    make_member("Ana", "en", phone=PHONE)
    twilio.fail_next(500, code=20500, message=NAMED, times=3)
    caplog.set_level(logging.DEBUG)
    confirm_alert(client, verifier)
    deliver()
    assert Delivery.objects.filter(status=Status.DEAD).exists()
    page = dispatcher.client.get("/console/deliveries/dead/").content.decode()
    assert "20500" in page
    for trace in ("2135550101", "555-0101", "ana@example.org"):
        assert trace not in page
        assert trace not in all_stored_text()
        assert trace not in caplog.text


def test_twilio_is_asked_to_obfuscate_the_numbers_it_keeps(
        client, zone, verifier, twilio, deliver, settings):
    make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    [request] = [r for r in twilio.requests if r.to == PHONE]
    assert request.params["AddressRetention"] == "obfuscate"


def test_address_retention_can_be_switched_off(
        client, zone, verifier, twilio, deliver, settings):
    settings.TWILIO_ADDRESS_RETENTION = ""
    make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    [request] = [r for r in twilio.requests if r.to == PHONE]
    assert "AddressRetention" not in request.params
