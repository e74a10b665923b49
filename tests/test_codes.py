"""One-time codes (rapidresponse.codes): what someone seizing the database finds (no code),
random ids, one hourly limit per phone or email whatever the purpose, codes that work once
and for their own purpose only, and secrets that are gone once sent."""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapidresponse.codes.actions import CODES_PER_DESTINATION_PER_HOUR
from rapidresponse.codes.keeper import erase_spent_secrets
from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery import outbox, sealing
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Status
from rapidresponse.members.models import Member
from rapidresponse.membership.signin import do_start_sign_in
from tests.codes_support import Inbox
from tests.conftest import make_member
from tests.stubs.twilio_stub import serve_for
from tests.test_members import all_stored_text
from tests.test_signup import code_id, form, member_of, spanish, text_of

PHONE = "+12135550123"  # what form() types as "(213) 555-0123"


def hashes_of(code: str) -> list[str]:
    return [hashlib.sha256(code.encode()).hexdigest(), hashlib.md5(code.encode()).hexdigest()]


# --- the database holds no code ------------------------------------------------------------


def test_seizing_the_database_after_a_sign_up_code_was_sent_finds_no_code(
        client, db, inbox, caplog):
    caplog.set_level(logging.DEBUG)
    cid = code_id(client.post("/join/", form(name="Ana")))
    code = inbox.code(member_of(cid))
    stored = all_stored_text()
    assert code not in stored
    assert not any(h in stored for h in hashes_of(code))  # and not an unkeyed hash of it
    assert sealing.MARK in ConsoleMessage.objects.get().text
    assert code not in caplog.text and "555-0123" not in caplog.text
    assert "2135550123" not in caplog.text


def test_the_code_is_kept_encrypted_only_until_its_message_is_sent(client, db, inbox):
    cid = code_id(client.post("/join/", form()))
    record = OneTimeCode.objects.get(public_id=cid)
    assert record.secret_encrypted  # waiting in the outbox: the worker needs it
    code = inbox.code(member_of(cid))
    assert code not in record.secret_encrypted
    record.refresh_from_db()
    assert record.secret_encrypted == ""


@pytest.fixture
def twilio(settings: Any) -> Any:
    yield from serve_for(settings)


def test_through_twilio_the_phone_gets_the_code_and_no_table_or_log_does(
        client, db, twilio, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/join/", form())
    outbox.drain()
    [sent] = twilio.messages_to(PHONE)
    (code,) = re.findall(r"\b\d{6}\b", sent.body)
    assert code not in all_stored_text()
    assert code not in caplog.text
    assert capsys.readouterr().out == ""  # a live backend prints nothing


def test_the_message_log_and_the_phone_view_show_that_a_code_was_sent_not_the_code(
        client, dispatcher, inbox):
    cid = code_id(client.post("/join/", form()))
    member = member_of(cid)
    code = inbox.code(member)
    log = text_of(dispatcher.client.get("/console/messages/"))
    phone = text_of(dispatcher.client.get(f"/console/phone/{member.pk}/"))
    for page in (log, phone):
        assert sealing.MARK in page and code not in page


def test_the_payload_of_someone_signing_up_again_is_encrypted_and_gone_once_used(
        client, db, inbox):
    luis = make_member("Luis", "en", phone=PHONE)
    cid = code_id(client.post("/join/", form(name="Luis Nuevo")))
    assert "Luis Nuevo" not in all_stored_text()
    assert client.post(f"/code/{cid}/", {"code": inbox.code(luis)}).status_code == 302
    assert OneTimeCode.objects.get(public_id=cid).payload_encrypted == ""


# --- ids -----------------------------------------------------------------------------------


def test_code_ids_are_random_not_counted(client, db):
    first = code_id(client.post("/join/", form()))
    second = code_id(Client().post("/join/", form(phone="(213) 555-0124")))
    assert first != second and not first.isdigit() and not second.isdigit()
    assert len(first) >= 20


@pytest.mark.parametrize("path", ["/code/1/", "/code/%E2%80%A2/", "/code/" + "A" * 300 + "/"])
def test_an_unknown_code_id_gets_the_expired_page_not_an_error(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "This code has expired or was already used." in text_of(response)
    assert client.post(path, {"code": "123456"}).status_code == 404


@pytest.mark.parametrize("typed", ["", "12345678901234567890" * 50, "١٢٣٤٥٦", "\x00"])
def test_any_code_typed_gets_a_clear_answer(client, db, typed):
    cid = code_id(client.post("/join/", form()))
    response = client.post(f"/code/{cid}/", {"code": typed}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("That code is not right, or it has expired.") in text_of(response)


def test_a_sign_in_code_does_not_confirm_a_sign_up(client, db, inbox):
    member = make_member("Ana", "es", phone=PHONE)
    record = do_start_sign_in("sms", PHONE)
    assert record is not None
    code = inbox.code(member)
    assert client.post(f"/code/{record.public_id}/", {"code": code}).status_code == 404
    assert client.post("/leave/confirm/", {"contact": PHONE, "code": code}).status_code == 400
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


# --- the hourly limit per phone or email -----------------------------------------------------


def ask_codes_everywhere(member: Any, times: int) -> None:
    """Ask for codes to the member's phone for every purpose, from different places."""
    pages = [("/me/", {"contact": PHONE}), ("/leave/", {"contact": PHONE}),
             ("/join/", form())]
    for i in range(times):
        path, data = pages[i % len(pages)]
        Client(REMOTE_ADDR=f"10.0.1.{i}").post(path, data)
        outbox.drain()


def test_one_phone_gets_at_most_so_many_codes_an_hour_whatever_the_purpose(db, inbox):
    ana = make_member("Ana", "es", phone=PHONE)
    ask_codes_everywhere(ana, CODES_PER_DESTINATION_PER_HOUR + 3)
    assert ConsoleMessage.objects.filter(member=ana).count() == CODES_PER_DESTINATION_PER_HOUR
    assert len(inbox.read()) == CODES_PER_DESTINATION_PER_HOUR


def test_sms_and_signal_to_one_phone_count_as_one_destination(db, inbox):
    from tests.test_signal_members import on_signal

    rosa = on_signal("Rosa", phone=PHONE)
    rosa.contacts.filter(kind="sms").update(disabled_at=timezone.now())  # codes go by Signal
    for i in range(CODES_PER_DESTINATION_PER_HOUR):
        Client(REMOTE_ADDR=f"10.0.2.{i}").post("/leave/", {"contact": PHONE})
    rosa.contacts.filter(kind="sms").update(disabled_at=None)  # ... and now by SMS
    Client(REMOTE_ADDR="10.0.2.99").post("/me/", {"contact": PHONE})
    outbox.drain()
    assert not OneTimeCode.objects.filter(channel="sms", throttled=False).exists()
    assert OneTimeCode.objects.filter(channel="sms", throttled=True).count() == 1


def test_over_the_limit_the_last_code_sent_still_works_and_the_page_looks_the_same(db, inbox):
    ana = make_member("Ana", "es", phone=PHONE)
    client = Client()
    for _ in range(CODES_PER_DESTINATION_PER_HOUR):
        client.post("/leave/", {"contact": PHONE})
    code = inbox.code(ana)
    normal = client.post("/leave/", {"contact": PHONE})
    assert normal.status_code == 200
    assert OneTimeCode.objects.filter(throttled=True).count() == 1
    response = client.post("/leave/confirm/", {"contact": PHONE, "code": code})
    assert response.status_code == 302 and response["Location"] == "/leave/done/"


def test_a_throttled_sign_up_gets_the_same_code_page(db, inbox):
    make_member("Luis", "en", phone=PHONE)
    for i in range(CODES_PER_DESTINATION_PER_HOUR):
        Client(REMOTE_ADDR=f"10.0.3.{i}").post("/join/", form())
    limited = Client(REMOTE_ADDR="10.0.3.99").post("/join/", form())
    assert OneTimeCode.objects.get(public_id=code_id(limited)).throttled
    page = Client().get(limited["Location"])
    assert page.status_code == 200 and "Enter your code" in text_of(page)


# --- secrets that are gone -----------------------------------------------------------------


def test_a_code_message_sent_again_after_it_was_sent_is_not_sent_with_the_mark(
        client, db, inbox):
    cid = code_id(client.post("/join/", form()))
    inbox.code(member_of(cid))
    delivery = Delivery.objects.get(message__kind="confirmation")
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.DEAD)
    assert outbox.retry(delivery.pk)  # staff press "Send again"
    outbox.drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and "SecretGone" in delivery.error
    assert ConsoleMessage.objects.count() == 1


def test_an_earlier_code_not_yet_sent_is_not_sent_once_a_newer_one_is_asked_for(db, inbox):
    ana = make_member("Ana", "es", phone=PHONE)
    client = Client()
    client.post("/me/", {"contact": PHONE})
    client.post("/me/", {"contact": PHONE})
    code = inbox.code(ana)
    assert len(inbox.read()) == 1
    assert ConsoleMessage.objects.filter(member=ana).count() == 1
    assert client.post("/me/code/", {"contact": PHONE, "code": code}).status_code == 302


def test_secrets_of_codes_whose_message_failed_for_good_are_erased(client, db):
    cid = code_id(client.post("/join/", form()))
    Delivery.objects.update(status=Status.FAILED)
    assert erase_spent_secrets() == 1
    assert OneTimeCode.objects.get(public_id=cid).secret_encrypted == ""


def test_secrets_of_codes_waiting_to_be_sent_are_kept(client, db):
    cid = code_id(client.post("/join/", form()))
    assert erase_spent_secrets() == 0
    assert OneTimeCode.objects.get(public_id=cid).secret_encrypted


def test_a_member_who_leaves_keeps_no_code_that_works(client, db, inbox):
    from rapidresponse.members.actions import do_opt_out

    luis = make_member("Luis", "en", phone=PHONE)
    cid = code_id(client.post("/join/", form(name="Luis Nuevo")))
    code = inbox.code(luis)
    do_opt_out(luis)
    record = OneTimeCode.objects.get(public_id=cid)
    assert record.payload_encrypted == "" and record.used_at is not None
    assert client.post(f"/code/{cid}/", {"code": code}).status_code == 404


def test_codes_go_only_to_a_members_contact_point_for_now(db):
    from rapidresponse.codes.actions import do_issue_code
    from rapidresponse.codes.destinations import Destination
    from rapidresponse.membership.signin import SIGN_IN

    with pytest.raises(ValueError):
        do_issue_code(SIGN_IN, Destination.typed("sms", PHONE))


def test_the_inbox_reads_what_the_console_printed(db, inbox: Inbox):
    ana = make_member("Ana", "es", phone=PHONE)
    Client().post("/me/", {"contact": PHONE})
    printed = inbox.last(ana)
    assert printed.channel == "sms" and printed.to_masked == "***0123"
    assert "ajustes" in printed.text
