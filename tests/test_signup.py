"""The public sign-up page, the confirmation code, and leaving: in English and Spanish."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Status
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_submit_report,
)
from rapidresponse.lib import geo
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import Member
from rapidresponse.membership.actions import JOIN
from rapidresponse.zones.models import ZoneCell
from tests.codes_support import current
from tests.conftest import BOYLE, NEAR, make_member
from tests.test_members import all_stored_text

pytestmark = pytest.mark.usefixtures("inbox")
CODE_MAX_ATTEMPTS = JOIN.max_attempts

PHONE = "(213) 555-0123"
E164 = "+12135550123"


class FormValues(HTMLParser):
    """What a browser would send back if the user pressed submit again."""

    def __init__(self, page: str):
        super().__init__()
        self.values: dict[str, Any] = {}
        self._select: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name") or ""
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.setdefault(name, []).append(a.get("value") or "on")
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Ana", "language": "es", "phone": PHONE, "email": "", "channels": ["sms"],
        "label_1": "work", "latitude_1": "34.0345127", "longitude_1": "-118.2050893",
        "radius_1": "1500", "consent": "yes",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text_of(response: Any) -> str:
    return html.unescape(response.content.decode())


def spanish(message: str) -> str:
    """The Spanish for an English message; fails if there is no translation."""
    with translation.override("es"):
        translated = translation.gettext(message)
    assert translated != message, f"no Spanish translation for {message!r}"
    return translated


def code_from_outbox(member: Member) -> str:
    """The code as the member got it (the console backend's standard output)."""
    return current().code(member)


def code_id(response: Any) -> str:
    assert response.status_code == 302, response.content
    match = re.fullmatch(r"/code/([A-Za-z0-9_-]{20,32})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def member_of(cid: str) -> Member:
    member = OneTimeCode.objects.get(public_id=cid).member
    assert member is not None
    return member


def sign_up(client: Client, **overrides: Any) -> tuple[Member, str, str]:
    cid = code_id(client.post("/join/", form(**overrides)))
    member = member_of(cid)
    return member, cid, code_from_outbox(member)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def confirmed_incident_at(point: tuple[float, float], verifier: Any) -> Any:
    report = do_submit_report(build_report_input(
        {"latitude": point[0], "longitude": point[1], "activity": "arrests", "agency": "ice"}),
        source="web")
    do_record_verification(report.incident, verifier.user, "confirmed")
    return report.incident


# --- the page ------------------------------------------------------------------------------


def test_join_page_is_in_english(client, db):
    response = client.get("/join/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()
    assert "Get verified alerts" in text_of(response)


def test_join_page_is_in_spanish(client, db):
    response = client.get("/join/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert '<html lang="es">' in response.content.decode()
    assert spanish("Get verified alerts") in text_of(response)
    assert spanish("I agree to receive alerts. I can stop at any time by replying STOP or "
                   "on this site.") in text_of(response)


def test_join_page_lists_the_neighbourhoods(client, zone):
    page = client.get("/join/").content.decode()
    assert re.search(rf'<option value="{zone.pk}"[^>]*>Boyle Heights</option>', page)


# --- signing up ----------------------------------------------------------------------------


def test_sign_up_creates_a_pending_member(client, db):
    cid = code_id(client.post("/join/", form()))
    member = member_of(cid)
    assert member.status == Member.Status.PENDING
    assert member.name == "Ana" and member.language == "es"
    assert member.contacts.get().value == E164
    assert member.watch_areas.get().label == "work"


def test_sign_up_sends_a_six_digit_code_by_sms(client, db):
    member, _cid, code = sign_up(client)
    message = ConsoleMessage.objects.get(member=member)
    assert message.channel == "sms"
    assert message.to_masked == "***0123"
    assert len(code) == 6 and code.isdigit()


def test_code_is_sent_in_the_members_language(client, db):
    member, _cid, code = sign_up(client, language="es")
    message = ConsoleMessage.objects.get(member=member)
    assert message.language == "es"
    template = spanish("%(network)s: your code to join alerts is %(code)s. "
                       "If you did not ask for this, ignore this message.")
    assert message.text.endswith(template.split("%(code)s")[1])


def test_sign_up_with_email_only_sends_the_code_by_email(client, db):
    member, _cid, _code = sign_up(client, phone="", email="Ana@Example.com",
                                  channels=["email"])
    message = ConsoleMessage.objects.get(member=member)
    assert message.channel == "email"
    assert message.to_masked == "A***@example.com"


def test_right_code_activates_the_member(client, db):
    member, cid, code = sign_up(client)
    response = client.post(f"/code/{cid}/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/join/welcome/"
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.consent_at is not None
    assert member.contacts.get().verified_at is not None


def test_welcome_page_says_you_are_signed_up(client, db):
    _member, cid, code = sign_up(client)
    response = client.post(f"/code/{cid}/", {"code": code}, follow=True)
    assert "You are signed up." in text_of(response)


def test_wrong_code_is_refused_with_a_clear_message(client, db):
    member, cid, code = sign_up(client)
    response = client.post(f"/code/{cid}/", {"code": wrong(code)})
    assert response.status_code == 400
    assert "That code is not right, or it has expired." in text_of(response)
    member.refresh_from_db()
    assert member.status == Member.Status.PENDING


def test_wrong_code_message_is_in_spanish_for_a_spanish_reader(client, db):
    _member, cid, code = sign_up(client)
    response = client.post(f"/code/{cid}/", {"code": wrong(code)}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("That code is not right, or it has expired.") in text_of(response)


def test_too_many_wrong_codes_lock_the_code(client, db):
    member, cid, code = sign_up(client)
    for _ in range(CODE_MAX_ATTEMPTS):
        assert client.post(f"/code/{cid}/", {"code": wrong(code)}).status_code == 400
    response = client.post(f"/code/{cid}/", {"code": code})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.status == Member.Status.PENDING


def test_fewer_wrong_codes_than_the_limit_still_allow_the_right_one(client, db):
    member, cid, code = sign_up(client)
    for _ in range(CODE_MAX_ATTEMPTS - 1):
        client.post(f"/code/{cid}/", {"code": wrong(code)})
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 302
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_expired_code_fails(client, db):
    member, cid, code = sign_up(client)
    OneTimeCode.objects.filter(public_id=cid).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(f"/code/{cid}/", {"code": code})
    assert response.status_code == 400
    assert "That code is not right, or it has expired." in text_of(response)
    member.refresh_from_db()
    assert member.status == Member.Status.PENDING


def test_a_code_works_only_once(client, db):
    _member, cid, code = sign_up(client)
    client.post(f"/code/{cid}/", {"code": code})
    response = client.post(f"/code/{cid}/", {"code": code})
    assert response.status_code == 404
    assert "This code has expired or was already used." in text_of(response)


def test_a_new_sign_up_replaces_the_previous_code(client, db):
    member, first_id, first_code = sign_up(client)
    second_id = code_id(client.post("/join/", form()))
    second_code = code_from_outbox(member)
    assert client.post(f"/code/{first_id}/", {"code": first_code}).status_code == 404
    assert client.post(f"/code/{second_id}/", {"code": second_code}).status_code == 302


def test_sign_up_with_a_neighbourhood_instead_of_a_map_point(client, zone):
    member, cid, code = sign_up(client, latitude_1="", longitude_1="", zone_1=str(zone.pk))
    area = member.watch_areas.get()
    assert ZoneCell.objects.filter(zone=zone, cell=area.cell).exists()
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 302


def test_unknown_neighbourhood_is_refused_with_a_message(client, zone):
    response = client.post("/join/", form(latitude_1="", longitude_1="", zone_1="99999"))
    assert response.status_code == 400
    assert "Choose a neighbourhood from the list." in text_of(response)


def test_sign_up_keeps_only_the_cell_not_the_spot(client, db):
    member, _cid, _code = sign_up(client)
    area = member.watch_areas.get()
    assert area.cell == geo.cell_for(34.0345127, -118.2050893, 8)
    stored = all_stored_text()
    assert "34.0345127" not in stored and "118.2050893" not in stored
    assert "2135550123" not in stored


def test_three_places_can_be_chosen_on_the_page(client, zone):
    member, _cid, _code = sign_up(
        client, label_2="home", zone_2=str(zone.pk), radius_2="500",
        label_3="school", latitude_3=str(BOYLE[0]), longitude_3=str(BOYLE[1]),
        radius_3="3000")
    assert sorted(member.watch_areas.values_list("label", "radius_m")) == [
        ("home", 500), ("school", 3000), ("work", 1500)]


# --- mistakes lose nothing -----------------------------------------------------------------


def assert_form_kept(response: Any, sent: dict[str, Any], *, except_: tuple[str, ...] = ()
                     ) -> None:
    kept = FormValues(response.content.decode()).values
    for name, value in sent.items():
        if name in except_:
            continue
        expected = value if isinstance(value, list) or name not in ("channels", "consent") \
            else [value]
        assert kept.get(name) == expected, f"{name}: sent {value!r}, form shows {kept.get(name)!r}"


def test_missing_consent_is_refused_and_nothing_typed_is_lost(client, db):
    sent = form(consent=None, email="ana@example.com", channels=["sms", "email"])
    response = client.post("/join/", sent)
    assert response.status_code == 400
    assert "Please agree to receive alerts." in text_of(response)
    assert_form_kept(response, sent)
    assert not Member.objects.exists()


def test_missing_consent_message_is_in_spanish(client, db):
    response = client.post("/join/", form(consent=None), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("Please agree to receive alerts.") in text_of(response)


def test_missing_contact_is_refused_and_nothing_typed_is_lost(client, db):
    sent = form(phone="", channels=None)
    response = client.post("/join/", sent)
    assert response.status_code == 400
    assert "Give a phone number or an email address." in text_of(response)
    assert_form_kept(response, sent)
    assert not Member.objects.exists()


def test_bad_phone_is_refused_and_nothing_typed_is_lost(client, db):
    sent = form(phone="213 555", name="Ana María", language="en")
    response = client.post("/join/", sent)
    assert response.status_code == 400
    assert "This phone number is not valid." in text_of(response)
    assert_form_kept(response, sent)
    assert not Member.objects.exists()


def test_bad_phone_message_is_in_spanish(client, db):
    response = client.post("/join/", form(phone="not a phone"), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("This is not a phone number.") in text_of(response)


def test_neighbourhood_choice_is_kept_after_a_mistake(client, zone):
    sent = form(consent=None, latitude_1="", longitude_1="", zone_1=str(zone.pk))
    response = client.post("/join/", sent)
    assert response.status_code == 400
    assert_form_kept(response, sent)


def test_radius_out_of_range_is_refused_with_the_bounds(client, db):
    response = client.post("/join/", form(radius_1="50000"))
    assert response.status_code == 400
    assert "The radius must be between 200 and 5000 metres." in text_of(response)


def test_radius_that_is_not_a_number_is_refused_not_a_crash(client, db):
    response = client.post("/join/", form(radius_1="1e999"))
    assert response.status_code == 400
    assert "The radius must be a number of metres." in text_of(response)


def test_no_place_at_all_is_refused(client, db):
    response = client.post("/join/", form(latitude_1="", longitude_1=""))
    assert response.status_code == 400
    assert "Choose a place on the map or a neighbourhood." in text_of(response)


def test_unknown_language_is_refused(client, db):
    response = client.post("/join/", form(language="xx"))
    assert response.status_code == 400
    assert "Choose one of these languages: en, es." in text_of(response)


# --- someone already on the list -----------------------------------------------------------


def normalised_page(response: Any) -> str:
    page = response.content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r"/code/[^/]+/", "/code/N/", page)


def test_signing_up_again_looks_exactly_like_a_first_sign_up(db):
    make_member("Luis", "en", phone="+12135550188")
    newcomer, known = Client(), Client()
    first = newcomer.post("/join/", form(phone="+12135550177"))
    again = known.post("/join/", form(phone="+12135550188"))
    assert first.status_code == again.status_code == 302
    assert len(code_id(first)) == len(code_id(again))  # /code/<a random id>/ both
    assert normalised_page(newcomer.get(first["Location"])) == normalised_page(
        known.get(again["Location"]))


def test_signing_up_again_sends_a_code_to_the_member_on_the_list(client, db):
    existing = make_member("Luis", "en", phone=E164)
    code_id(client.post("/join/", form()))
    code_from_outbox(existing)
    assert Member.objects.count() == 1


def test_signing_up_again_changes_nothing_before_the_code(client, db):
    existing = make_member("Luis", "en", phone=E164, radius_m=1000)
    client.post("/join/", form(name="Luis Nuevo", language="es", radius_1="3000"))
    existing.refresh_from_db()
    assert (existing.name, existing.language) == ("Luis", "en")
    assert existing.watch_areas.get().radius_m == 1000


def test_signing_up_again_applies_the_new_settings_once_confirmed(client, db):
    existing = make_member("Luis", "en", phone=E164, radius_m=1000)
    cid = code_id(client.post("/join/", form(name="Luis Nuevo", language="es",
                                             radius_1="3000")))
    code = code_from_outbox(existing)
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 302
    existing.refresh_from_db()
    assert (existing.name, existing.language, existing.status) == ("Luis Nuevo", "es",
                                                                   Member.Status.ACTIVE)
    assert list(existing.watch_areas.values_list("label", "radius_m")) == [("work", 3000)]


def test_signing_up_again_with_a_wrong_code_changes_nothing(client, db):
    existing = make_member("Luis", "en", phone=E164)
    cid = code_id(client.post("/join/", form(name="Someone Else")))
    code = code_from_outbox(existing)
    assert client.post(f"/code/{cid}/", {"code": wrong(code)}).status_code == 400
    existing.refresh_from_db()
    assert existing.name == "Luis"


def test_pending_sign_ups_do_not_leak_the_new_settings_in_clear(client, db):
    make_member("Luis", "en", phone=E164)
    client.post("/join/", form(email="luis.nuevo@example.com", channels=["sms", "email"]))
    stored = all_stored_text()
    assert "luis.nuevo" not in stored and "34.0345127" not in stored


# --- leaving -------------------------------------------------------------------------------


def test_leave_page_answers_the_same_for_members_and_strangers(db):
    make_member("Ana", "es", phone="+12135550123")
    member_page = Client().post("/leave/", {"contact": "+12135550123"})
    stranger_page = Client().post("/leave/", {"contact": "+12135550123"[:-1] + "9"})
    assert member_page.status_code == stranger_page.status_code == 200
    assert normalised_page(member_page).replace("0123", "X") == normalised_page(
        stranger_page).replace("0129", "X")


def test_leave_sends_a_code_only_to_a_member(client, db):
    member = make_member("Ana", "es", phone="+12135550123")
    client.post("/leave/", {"contact": "(213) 555-0123"})
    client.post("/leave/", {"contact": "(213) 555-0199"})
    outbox.drain()
    assert list(ConsoleMessage.objects.values_list("member_id", flat=True)) == [member.pk]


def test_leave_code_for_a_stranger_gives_the_same_answer_as_a_wrong_code(db):
    make_member("Ana", "es", phone="+12135550123")
    member_client, stranger_client = Client(), Client()
    member_client.post("/leave/", {"contact": "+12135550123"})
    stranger_client.post("/leave/", {"contact": "+12135550199"})
    a = member_client.post("/leave/confirm/", {"contact": "+12135550123", "code": "000000"})
    b = stranger_client.post("/leave/confirm/", {"contact": "+12135550199", "code": "000000"})
    assert a.status_code == b.status_code == 400
    assert "That code is not right, or it has expired." in text_of(b)


def test_leave_with_a_bad_phone_gets_a_clear_message(client, db):
    response = client.post("/leave/", {"contact": "hello"})
    assert response.status_code == 400
    assert "This is not a phone number." in text_of(response)


def test_leave_with_nothing_entered_gets_a_clear_message(client, db):
    response = client.post("/leave/", {"contact": "  "})
    assert response.status_code == 400
    assert "Enter the phone number or email address you signed up with." in text_of(response)


def leave(client: Client, member: Member, contact: str) -> Any:
    client.post("/leave/", {"contact": contact})
    code = code_from_outbox(member)
    return client.post("/leave/confirm/", {"contact": contact, "code": code})


def test_leaving_with_the_right_code_opts_the_member_out(client, db):
    member = make_member("Ana", "es", phone="+12135550123")
    response = leave(client, member, "(213) 555-0123")
    assert response.status_code == 302 and response["Location"] == "/leave/done/"
    member.refresh_from_db()
    assert member.status == Member.Status.OPTED_OUT
    assert member.opted_out_at is not None


def test_leaving_erases_name_places_and_contact_values(client, db):
    member = make_member("Ana Pérez", "es", phone="+12135550123", email="ana@example.com")
    leave(client, member, "+12135550123")
    member.refresh_from_db()
    assert member.name == ""
    assert not member.watch_areas.exists()
    assert set(member.contacts.values_list("value_encrypted", flat=True)) == {""}


def test_leaving_by_email_works_too(client, db):
    member = make_member("Ana", "es", email="Ana@Example.com")
    assert leave(client, member, "ana@example.COM").status_code == 302
    member.refresh_from_db()
    assert member.status == Member.Status.OPTED_OUT


def test_leaving_skips_messages_still_waiting_to_be_sent(client, db):
    member = make_member("Ana", "es", phone="+12135550123")
    client.post("/leave/", {"contact": "+12135550123"})
    code = code_from_outbox(member)
    waiting = outbox.send_to_member(member, "notice", {"en": {"text": "meeting"},
                                                       "es": {"text": "reunión"}})
    client.post("/leave/confirm/", {"contact": "+12135550123", "code": code})
    outbox.drain()
    delivery = Delivery.objects.get(message=waiting)
    assert delivery.status == Status.SKIPPED
    assert not ConsoleMessage.objects.filter(delivery=delivery).exists()


def test_a_later_alert_does_not_reach_someone_who_left(client, zone, verifier):
    gone = make_member("Ana", "es", phone="+12135550123", at=NEAR)
    staying = make_member("Rosa", "es", phone="+12135550124", at=NEAR)
    leave(client, gone, "+12135550123")
    confirmed_incident_at(BOYLE, verifier)
    outbox.drain()
    assert ConsoleMessage.objects.filter(member=staying).count() == 1
    assert not Delivery.objects.filter(member=gone, message__kind="alert").exists()


def test_wrong_leave_code_keeps_the_member(client, db):
    member = make_member("Ana", "es", phone="+12135550123")
    client.post("/leave/", {"contact": "+12135550123"})
    code = code_from_outbox(member)
    response = client.post("/leave/confirm/", {"contact": "+12135550123", "code": wrong(code)})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_someone_who_left_can_join_again(client, db):
    member = make_member("Ana", "es", phone="+12135550123")
    leave(client, member, "+12135550123")
    cid = code_id(client.post("/join/", form(name="Ana")))
    code = code_from_outbox(member)
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 302
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.watch_areas.count() == 1
    found = find_contact("sms", PHONE)
    assert found is not None and found.value == E164 and found.enabled


@pytest.mark.parametrize("lang", ["en", "es"])
def test_leave_done_page_is_in_the_readers_language(client, db, lang):
    member = make_member("Ana", "es", phone="+12135550123")
    client.post("/leave/", {"contact": "+12135550123"}, HTTP_ACCEPT_LANGUAGE=lang)
    code = code_from_outbox(member)
    response = client.post("/leave/confirm/", {"contact": "+12135550123", "code": code},
                           HTTP_ACCEPT_LANGUAGE=lang, follow=True)
    expected = "You will not get any more alerts."
    assert (spanish(expected) if lang == "es" else expected) in text_of(response)


def test_signing_up_with_the_email_of_another_member_leaves_it_theirs(client, db):
    luis = make_member("Luis", "en", phone=E164)
    rosa = make_member("Rosa", "es", email="rosa@example.com")
    cid = code_id(client.post("/join/", form(email="rosa@example.com",
                                             channels=["sms", "email"])))
    code = code_from_outbox(luis)
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 302
    found = find_contact("email", "rosa@example.com")
    assert found is not None and found.member == rosa
    assert not luis.contacts.filter(kind="email").exists()


def test_a_spanish_reader_who_picks_no_language_gets_spanish(client, db):
    response = client.post("/join/", form(language=None), HTTP_ACCEPT_LANGUAGE="es")
    assert member_of(code_id(response)).language == "es"


def test_an_english_reader_who_picks_no_language_gets_english(client, db):
    response = client.post("/join/", form(language=None), HTTP_ACCEPT_LANGUAGE="en")
    assert member_of(code_id(response)).language == "en"


def test_second_contact_gets_alerts_once_its_link_is_opened(client, zone, deliver):
    """Sign up with SMS and email: the code confirms the phone, a link confirms the email."""
    from rapidresponse.members.models import ContactPoint

    response = client.post("/join/", {
        "phone": "+12135550160", "email": "both@example.org", "channels": ["sms", "email"],
        "latitude_1": "34.0345", "longitude_1": "-118.2050", "radius_1": "1000",
        "consent": "yes", "language": "en"})
    cid = code_id(response)
    code = current().code(channel="sms")
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 302
    email = ContactPoint.objects.get(kind="email")
    assert email.verified_at is None
    deliver()
    link = ConsoleMessage.objects.get(channel="email").text
    path = re.search(r"https?://[^/]+(/confirm/[^ ]+/)", link).group(1)
    assert client.get(path).status_code == 200
    email.refresh_from_db()
    assert email.verified_at is not None


def test_tampered_contact_link_is_refused(client, db):
    response = client.get("/confirm/not-a-real-token/")
    assert response.status_code == 404
