"""Members who get alerts on Signal: signing up, the settings page, CSV import and the API,
the alert reaching their Signal, and opting out covering it. English and Spanish."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.lib import crypto
from rapidresponse.members.actions import MemberInput, do_create_member, place_from_point
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import ContactPoint, Member
from tests.codes_support import current
from tests.conftest import BOYLE, NEAR
from tests.sms_support import text_hotline
from tests.stubs.twilio_stub import serve_for
from tests.test_import import csv_text, page_text, post_member, upload
from tests.test_members import all_stored_text
from tests.test_selfservice import settings_form, signed_in
from tests.test_signup import code_id, confirmed_incident_at, form, member_of, spanish, text_of

pytestmark = pytest.mark.usefixtures("inbox")

PHONE = "+12135550123"  # what form() types as "(213) 555-0123"
OTHER = "+12135550199"
SIGNAL_HEADER = "name,phone,email,language,latitude,longitude,radius_m,channels,signal"


def on_signal(name: str = "Rosa", language: str = "es", phone: str = PHONE,
              signal: str | None = None, email: str = "") -> Member:
    """A member added by staff with SMS and Signal (on the phone, or on `signal`)."""
    contacts = {"sms": phone, "signal": signal or phone}
    if email:
        contacts["email"] = email
    return do_create_member(MemberInput(
        name=name, language=language, contacts=contacts, channels=list(contacts),
        places=[place_from_point(*NEAR, 1000)]), source="import")


def signal_contact(member: Member) -> ContactPoint | None:
    return member.contacts.filter(kind="signal").first()


def last_message(channel: str) -> ConsoleMessage:
    outbox.drain()
    message = ConsoleMessage.objects.filter(channel=channel).order_by("-id").first()
    assert message is not None, f"nothing was sent on {channel}"
    return message


def code_on(channel: str) -> str:
    """The last code sent on this channel, as it reached the phone (the console backend's
    standard output)."""
    return current().code(channel=channel)


def open_link(client: Client, text: str) -> Any:
    match = re.search(r"https?://[^/\s]+(/confirm/\S+/)", text)
    assert match, text
    return client.get(match.group(1))


def join(client: Client, **overrides: Any) -> tuple[Member, str]:
    cid = code_id(client.post("/join/", form(**overrides)))
    return member_of(cid), cid


# --- signing up ----------------------------------------------------------------------------


def test_the_sign_up_page_offers_signal_without_javascript(client, db):
    page = client.get("/join/").content.decode()
    assert re.search(r'<input type="checkbox" name="channels" value="signal"', page)
    assert re.search(r'<input name="signal" type="tel"', page)


def test_choosing_signal_uses_the_phone_number_for_signal(client, db):
    member, _cid = join(client, channels=["sms", "signal"])
    signal = signal_contact(member)
    assert signal is not None and signal.value == PHONE and signal.enabled


def test_the_sms_code_also_confirms_signal_on_the_same_number(client, db):
    member, cid = join(client, channels=["sms", "signal"])
    code = code_on("sms")
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 302
    assert signal_contact(member).verified_at is not None
    assert not ConsoleMessage.objects.filter(channel="signal").exists()  # no second link


def test_signal_alone_on_the_phone_keeps_sms_off(client, db):
    member, cid = join(client, channels=["signal"])
    code = code_on("sms")  # the number is confirmed by SMS once
    client.post(f"/code/{cid}/", {"code": code})
    assert dict(member.contacts.values_list("kind", "enabled")) == {"sms": False,
                                                                   "signal": True}


def test_a_separate_signal_number_is_confirmed_by_a_link_over_signal(client, db):
    member, cid = join(client, channels=["sms", "signal"], signal="(213) 555-0199")
    client.post(f"/code/{cid}/", {"code": code_on("sms")})
    signal = signal_contact(member)
    assert signal.value == OTHER and signal.verified_at is None
    link = last_message("signal")
    assert link.to_masked == "***0199"
    assert open_link(client, link.text).status_code == 200
    signal.refresh_from_db()
    assert signal.verified_at is not None


def test_a_signal_number_alone_gets_its_code_over_signal(client, db):
    member, cid = join(client, phone="", channels=["signal"], signal=OTHER)
    page = client.get(f"/code/{cid}/", HTTP_ACCEPT_LANGUAGE="es")
    assert spanish("We sent a 6-digit code over Signal to the Signal number you gave.") in \
        text_of(page)
    client.post(f"/code/{cid}/", {"code": code_on("signal")})
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert signal_contact(member).verified_at is not None
    assert not member.contacts.filter(kind="sms").exists()


def test_a_signal_number_is_stored_encrypted_with_its_own_blind_index(client, db):
    join(client, channels=["sms", "signal"], signal=OTHER)
    assert OTHER not in all_stored_text() and PHONE not in all_stored_text()
    found = find_contact("signal", "213-555-0199")
    assert found is not None and found.value == OTHER
    assert find_contact("sms", OTHER) is None


def test_a_bad_signal_number_is_refused_in_spanish_on_a_spanish_page(client, db):
    response = client.post("/join/", form(channels=["signal"], signal="555-01"),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("This phone number is not valid.") in text_of(response)
    assert 'value="555-01"' in response.content.decode()  # what was typed is kept
    assert not Member.objects.exists()


def test_a_signal_number_typed_without_ticking_signal_is_explained_on_sign_up(client, db):
    response = client.post("/join/", form(channels=["sms"], signal=OTHER),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("Tick Signal as well to get alerts on this Signal number.") in \
        text_of(response)
    assert not Member.objects.exists()


def test_signal_without_any_number_is_refused_in_spanish(client, db):
    response = client.post("/join/", form(phone="", email="ana@example.com",
                                          channels=["email", "signal"]),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("To get alerts on Signal, give your mobile phone number or the number "
                   "you use on Signal.") in text_of(response)
    assert not Member.objects.exists()


# --- the member's settings page ------------------------------------------------------------


@pytest.fixture
def ana(db: Any) -> Member:
    from tests.conftest import make_member

    return make_member("Ana", "es", phone=PHONE, email="ana@example.com")


def test_a_member_adds_signal_on_their_confirmed_phone(ana):
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, channels=["sms", "email",
                                                                     "signal"]))
    assert response.status_code == 302
    signal = signal_contact(ana)
    assert signal.value == PHONE and signal.enabled and signal.verified_at is not None


def test_a_member_adds_another_signal_number_confirmed_by_a_link(ana):
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(
        ana, channels=["sms", "signal"], signal="213 555 0199"), follow=True,
        HTTP_ACCEPT_LANGUAGE="es")
    assert spanish("We sent a link to your Signal number. Open it to get alerts on "
                   "Signal.") in text_of(response)
    assert signal_contact(ana).verified_at is None
    open_link(Client(), last_message("signal").text)
    assert signal_contact(ana).verified_at is not None


def test_the_settings_page_shows_the_signal_number_masked(db):
    luis = on_signal("Luis", "en", phone="+12135550124", signal=OTHER)
    page = text_of(signed_in(luis, "+12135550124").get("/me/"))
    assert re.search(r'value="signal" checked>\s*Signal <span class="masked">\*\*\*0199', page)
    assert OTHER not in page


def test_a_member_removes_signal(db):
    rosa = on_signal()
    client = signed_in(rosa)
    assert client.post("/me/save/", settings_form(rosa, channels=["sms"])).status_code == 302
    assert signal_contact(rosa) is None
    assert rosa.contacts.get(kind="sms").enabled


def test_a_signal_number_typed_without_ticking_signal_is_explained(ana):
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, signal=OTHER),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("Tick Signal as well to get alerts on this Signal number.") in \
        text_of(response)
    assert signal_contact(ana) is None


def test_a_bad_signal_number_on_the_settings_page_is_refused_in_spanish(ana):
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, channels=["sms", "signal"],
                                                      signal="call me"),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("This is not a phone number.") in text_of(response)
    assert signal_contact(ana) is None


def test_signal_without_a_phone_on_the_settings_page_asks_for_the_number(db):
    from tests.conftest import make_member

    eva = make_member("Eva", "es", email="eva@example.com")
    client = signed_in(eva, "eva@example.com")
    response = client.post("/me/save/", settings_form(eva, channels=["email", "signal"]),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("Give the number you use on Signal.") in text_of(response)


def test_another_members_number_cannot_be_taken_for_signal(ana):
    from tests.conftest import make_member

    make_member("Luis", "en", phone=OTHER)
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, channels=["sms", "signal"],
                                                      signal=OTHER))
    assert response.status_code == 400
    assert signal_contact(ana) is None
    assert not ConsoleMessage.objects.filter(channel="signal").exists()


def test_a_member_on_signal_only_signs_in_with_their_signal_number(db):
    member = do_create_member(MemberInput(
        name="Rosa", language="es", contacts={"signal": OTHER}, channels=["signal"],
        places=[place_from_point(*NEAR, 1000)]), source="import")
    client = Client()
    client.post("/me/", {"contact": "(213) 555-0199"})
    code = code_on("signal")
    response = client.post("/me/code/", {"contact": "(213) 555-0199", "code": code})
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert ConsoleMessage.objects.get(channel="signal").member_id == member.pk


# --- CSV import and the API ----------------------------------------------------------------


def test_import_with_signal_in_channels_uses_the_phone(coordinator):
    upload(coordinator.client, csv_text(
        "Ana,(213) 555-0101,,es,34.0339,-118.2036,1000,sms;signal"))
    ana = Member.objects.get(name="Ana")
    signal = signal_contact(ana)
    assert signal.value == "+12135550101" and signal.enabled
    assert signal.verified_at is not None  # staff record the consent, as for SMS


def test_import_with_a_signal_column_uses_that_number(coordinator):
    upload(coordinator.client, csv_text(
        "Ana,(213) 555-0101,,es,34.0339,-118.2036,1000,signal,(213) 555-0199",
        header=SIGNAL_HEADER))
    ana = Member.objects.get(name="Ana")
    assert signal_contact(ana).value == OTHER
    assert dict(ana.contacts.values_list("kind", "enabled")) == {"sms": False,
                                                                "signal": True}


def test_import_reports_signal_without_any_number_by_line(coordinator):
    response = upload(coordinator.client, csv_text(
        "Eva,,eva@example.com,es,34.0339,-118.2036,1000,email;signal"))
    assert ("<td>2</td><td>signal: To get alerts on Signal, give your mobile phone number "
            "or the number you use on Signal.</td>") in page_text(response)
    assert not Member.objects.filter(name="Eva").exists()


def test_the_members_page_explains_the_signal_channel(coordinator):
    text = page_text(coordinator.client.get("/console/members/"))
    assert "channels, signal" in text and "sms;signal" in text


def test_api_member_with_signal_gets_it_on_the_phone(client, coordinator):
    response = post_member(client, coordinator, channels=["sms", "signal"])
    assert response.status_code == 201, response.content
    member = Member.objects.get(pk=response.json()["id"])
    assert signal_contact(member).value == "+12135550101"


def test_api_member_with_a_separate_signal_number(client, coordinator):
    response = post_member(client, coordinator, channels=["signal"], signal=OTHER)
    member = Member.objects.get(pk=response.json()["id"])
    assert list(member.contacts.filter(enabled=True).values_list("kind", flat=True)) == [
        "signal"]
    assert signal_contact(member).value == OTHER


def test_api_refuses_a_bad_signal_number_with_the_field(client, coordinator):
    response = post_member(client, coordinator, channels=["signal"], signal="555-01")
    assert response.status_code == 400
    assert response.json()["errors"]["signal"] == "This phone number is not valid."
    assert not Member.objects.filter(name="Ana").exists()


def test_api_refuses_a_signal_number_that_is_another_members_phone(client, coordinator):
    on_signal("Luis", "en", phone=OTHER)
    response = post_member(client, coordinator, phone="", channels=["signal"], signal=OTHER)
    assert response.status_code == 400
    assert "contact" in response.json()["errors"]


# --- alerts and opting out -----------------------------------------------------------------


def test_an_alert_reaches_the_members_signal(zone, verifier):
    rosa = on_signal("Rosa", "es", signal=OTHER)
    confirmed_incident_at(BOYLE, verifier)
    outbox.drain()
    received = ConsoleMessage.objects.get(member=rosa, channel="signal")
    assert received.to_masked == "***0199" and received.language == "es"
    assert received.delivery.message.kind == "alert"


def test_an_unconfirmed_signal_number_gets_no_alert(zone, verifier):
    rosa = on_signal("Rosa", "es", signal=OTHER)
    ContactPoint.objects.filter(member=rosa, kind="signal").update(verified_at=None)
    confirmed_incident_at(BOYLE, verifier)
    outbox.drain()
    assert not ConsoleMessage.objects.filter(member=rosa, channel="signal").exists()
    assert ConsoleMessage.objects.filter(member=rosa, channel="sms").exists()


@pytest.fixture
def twilio(settings: Any) -> Any:
    yield from serve_for(settings)


def test_a_member_who_texted_stop_gets_nothing_on_signal(client, zone, verifier, twilio):
    rosa = on_signal("Rosa", "es", signal=OTHER)
    text_hotline(client, "STOP", PHONE)
    confirmed_incident_at(BOYLE, verifier)
    outbox.drain()
    assert not Delivery.objects.filter(member=rosa, channel="signal").exists()
    assert not ConsoleMessage.objects.filter(member=rosa).exists()


def test_a_signal_alert_still_waiting_is_skipped_when_the_member_texts_stop(
        client, zone, verifier, twilio):
    rosa = on_signal("Rosa", "es", signal=OTHER)
    confirmed_incident_at(BOYLE, verifier)  # queued, not sent yet
    text_hotline(client, "STOP", PHONE)
    outbox.drain()
    assert Delivery.objects.get(member=rosa, channel="signal").status == "skipped"
    assert not ConsoleMessage.objects.filter(member=rosa, channel="signal").exists()


def test_leaving_on_the_web_covers_signal(client, zone, verifier):
    rosa = on_signal("Rosa", "es", signal=OTHER)
    client.post("/leave/", {"contact": PHONE})
    code = code_on("sms")
    assert client.post("/leave/confirm/", {"contact": PHONE, "code": code}).status_code == 302
    confirmed_incident_at(BOYLE, verifier)
    outbox.drain()
    assert not Delivery.objects.filter(member=rosa, channel="signal",
                                       message__kind="alert").exists()
    assert signal_contact(rosa).value_encrypted == ""


def test_someone_on_signal_only_leaves_with_their_signal_number(client, db):
    rosa = do_create_member(MemberInput(
        name="Rosa", language="es", contacts={"signal": OTHER}, channels=["signal"],
        places=[place_from_point(*NEAR, 1000)]), source="import")
    client.post("/leave/", {"contact": "213.555.0199"})
    code = code_on("signal")
    response = client.post("/leave/confirm/", {"contact": "213.555.0199", "code": code})
    assert response.status_code == 302 and response["Location"] == "/leave/done/"
    rosa.refresh_from_db()
    assert rosa.status == Member.Status.OPTED_OUT


def test_retention_leaves_no_signal_number_of_someone_who_left(db):
    rosa = on_signal("Rosa", "es", signal=OTHER)
    # A value written back after the opt-out (as a re-sent code would) is erased too.
    from rapidresponse.members.actions import do_opt_out

    do_opt_out(rosa)
    ContactPoint.objects.filter(member=rosa, kind="signal").update(
        value_encrypted=crypto.encrypt(OTHER))
    enforce_retention()
    assert set(rosa.contacts.values_list("value_encrypted", flat=True)) == {""}


def test_retention_deletes_an_unconfirmed_sign_up_with_its_signal_number(client, db,
                                                                          settings):
    from datetime import timedelta

    from django.utils import timezone

    member, _cid = join(client, channels=["sms", "signal"], signal=OTHER)
    Member.objects.filter(pk=member.pk).update(
        created_at=timezone.now() - timedelta(
            hours=settings.RETENTION_UNCONFIRMED_MEMBER_HOURS + 1))
    enforce_retention()
    assert find_contact("signal", OTHER) is None


def test_stop_texted_from_a_separate_signal_number_ends_every_alert(
        client, zone, verifier, twilio):
    rosa = on_signal("Rosa", "es", signal=OTHER)
    reply = text_hotline(client, "STOP", OTHER)  # her Signal phone, not her SMS one
    assert "ya no recibira mas mensajes" in reply.lower(), reply  # in Spanish (GSM-7 SMS)
    rosa.refresh_from_db()
    assert rosa.status == Member.Status.OPTED_OUT
    confirmed_incident_at(BOYLE, verifier)
    outbox.drain()
    assert not ConsoleMessage.objects.filter(member=rosa).exists()
    assert text_hotline(client, "hola", OTHER) == ""  # the number is blocked, like any STOP
