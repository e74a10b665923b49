"""The email channel over SMTP, against a real SMTP server on loopback."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Status
from rapidresponse.delivery.transport import drill_transport_for, transport_for
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_submit_report,
)
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import BOYLE, make_member
from tests.test_members import all_stored_text

SMTP_BACKEND = "rapidresponse.channels.email.smtp.SmtpEmailBackend"


def use_smtp(settings: Any, port: int) -> None:
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS, "email": SMTP_BACKEND}
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    transport_for.cache_clear()
    drill_transport_for.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_transports() -> Iterator[None]:
    transport_for.cache_clear()
    drill_transport_for.cache_clear()
    yield
    transport_for.cache_clear()
    drill_transport_for.cache_clear()


@pytest.fixture
def smtp(settings: Any, smtp_server: Any) -> Any:
    """The email channel goes over SMTP to the loopback server, which keeps what it gets."""
    use_smtp(settings, smtp_server.port)
    return smtp_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def refusing_server(reply: str) -> Any:
    from aiosmtpd.controller import Controller

    class Refuse:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              rcpt_options: list[str]) -> str:
            return reply.replace("{address}", address)

    # aiosmtpd connects to itself to check it started, so it needs a real port, not 0.
    return Controller(Refuse(), hostname="127.0.0.1", port=free_port())


@pytest.fixture
def refusing(settings: Any) -> Iterator[Any]:
    """A server that refuses every recipient for good (550, naming the address as
    Postfix does)."""
    controller = refusing_server("550 5.1.1 <{address}>: Recipient address rejected")
    controller.start()
    use_smtp(settings, controller.port)
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def busy(settings: Any) -> Iterator[Any]:
    """A server that asks to try later (450)."""
    controller = refusing_server("450 4.2.1 Mailbox busy, try again later")
    controller.start()
    use_smtp(settings, controller.port)
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(settings: Any) -> int:
    """A port on loopback where nothing listens."""
    port = free_port()
    use_smtp(settings, port)
    return port


def subject(message: EmailMessage) -> str:
    return str(make_header(decode_header(message["Subject"])))


def body(message: EmailMessage) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def confirm_incident(verifier: Any, *, is_drill: bool = False) -> Any:
    report = do_submit_report(build_report_input(
        {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests", "agency": "ice",
         "is_drill": is_drill}), source="web")
    do_record_verification(report.incident, verifier.user, "confirmed")
    return report.incident


def email_delivery(member: Member) -> Delivery:
    return Delivery.objects.get(member=member, channel="email")


# --- delivered ---------------------------------------------------------------------------


def test_alert_reaches_the_members_inbox(smtp, zone, verifier):
    member = make_member("Ana", "es", email="Ana@Example.com")
    confirm_incident(verifier)
    outbox.drain()
    (received,) = smtp.received
    assert received["X-RcptTo"] == "Ana@example.com"
    assert email_delivery(member).status == Status.SENT


def test_alert_email_is_in_the_members_language(smtp, zone, verifier):
    make_member("Ana", "es", email="ana@example.com")
    incident = confirm_incident(verifier)
    outbox.drain()
    (received,) = smtp.received
    texts = incident.alerts.get().message.bodies
    assert texts["es"]["text"] != texts["en"]["text"]
    assert subject(received) == texts["es"]["subject"]
    assert body(received).strip() == texts["es"]["text"]
    assert "Boyle Heights" in subject(received)
    assert received["Content-Language"] == "es"


def test_english_member_gets_the_english_alert(smtp, zone, verifier):
    make_member("James", "en", email="james@example.com")
    incident = confirm_incident(verifier)
    outbox.drain()
    (received,) = smtp.received
    assert subject(received) == incident.alerts.get().message.bodies["en"]["subject"]
    assert "VERIFIED" in body(received)


def test_alert_email_comes_from_the_network_address(smtp, zone, verifier, settings):
    settings.DEFAULT_FROM_EMAIL = "alerts@boyle.example.org"
    make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    (received,) = smtp.received
    assert received["X-MailFrom"] == "alerts@boyle.example.org"
    assert received["From"] == "alerts@boyle.example.org"


def test_sent_delivery_keeps_the_message_id(smtp, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    (received,) = smtp.received
    delivery = email_delivery(member)
    assert delivery.provider_id == received["Message-ID"]
    assert delivery.attempts == 1 and delivery.sent_at is not None


def test_member_with_sms_and_email_gets_both(smtp, zone, verifier):
    member = make_member("Ana", "es", phone="+12135550101", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    assert len(smtp.received) == 1
    assert ConsoleMessage.objects.filter(member=member, channel="sms").count() == 1


def test_sign_up_code_arrives_by_email_and_confirms(smtp, client, db):
    response = client.post("/join/", {
        "name": "Ana", "language": "es", "email": "ana@example.com", "channels": ["email"],
        "latitude_1": str(BOYLE[0]), "longitude_1": str(BOYLE[1]), "radius_1": "1000",
        "consent": "yes"})
    assert response.status_code == 302, response.content
    outbox.drain()
    (received,) = smtp.received
    assert received["X-RcptTo"] == "ana@example.com"
    assert received["Content-Language"] == "es"
    (code,) = re.findall(r"\b\d{6}\b", body(received))
    assert client.post(response["Location"], {"code": code}).status_code == 302
    assert Member.objects.get().status == Member.Status.ACTIVE


def test_drill_never_reaches_the_smtp_server(smtp, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier, is_drill=True)
    outbox.drain()
    assert smtp.received == []
    console = ConsoleMessage.objects.get(member=member, channel="email")
    assert console.is_drill


# --- refused -----------------------------------------------------------------------------


def test_refused_recipient_marks_the_delivery_failed(refusing, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    delivery = email_delivery(member)
    assert delivery.status == Status.FAILED
    assert "550" in delivery.error


def test_refused_recipient_disables_the_address(refusing, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    contact = ContactPoint.objects.get(member=member, kind="email")
    assert contact.disabled_at is not None
    assert "550" in contact.disabled_reason


def test_refusal_does_not_write_the_address_in_clear_text(refusing, zone, verifier):
    make_member("Ana", "es", email="ana.perez@example.com")
    confirm_incident(verifier)
    outbox.drain()
    assert "ana.perez" not in all_stored_text()


def test_disabled_address_gets_nothing_more(refusing, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    outbox.send_to_member(member, "notice", {"en": {"text": "meeting"}})
    assert email_delivery(member).status == Status.FAILED
    assert Delivery.objects.filter(member=member).count() == 1


def test_try_later_answer_keeps_the_address_and_retries(busy, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    delivery = email_delivery(member)
    assert delivery.status == Status.QUEUED and delivery.attempts == 1
    assert ContactPoint.objects.get(member=member, kind="email").disabled_at is None


# --- server down -------------------------------------------------------------------------


def test_server_down_leaves_the_delivery_queued_for_a_later_retry(smtp_down, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    before = timezone.now()
    outbox.drain()
    delivery = email_delivery(member)
    assert delivery.status == Status.QUEUED
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > before
    assert delivery.error.startswith("SMTP error")


def test_server_down_does_not_disable_the_address(smtp_down, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    assert ContactPoint.objects.get(member=member, kind="email").disabled_at is None


def test_delivery_is_not_retried_before_its_time(smtp_down, zone, verifier):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    outbox.drain()
    assert email_delivery(member).attempts == 1


def retry_until_settled(delivery: Delivery, limit: int) -> Delivery:
    for _ in range(limit):
        Delivery.objects.filter(pk=delivery.pk, status=Status.QUEUED).update(
            next_attempt_at=timezone.now())
        outbox.drain()
    delivery.refresh_from_db()
    return delivery


def test_delivery_gives_up_after_the_maximum_attempts(smtp_down, zone, verifier, settings):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    delivery = retry_until_settled(email_delivery(member), settings.DELIVERY_MAX_ATTEMPTS + 2)
    assert delivery.status == Status.DEAD
    assert delivery.attempts == settings.DELIVERY_MAX_ATTEMPTS


def test_delivery_is_still_queued_one_attempt_before_the_maximum(smtp_down, zone, verifier,
                                                                 settings):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    delivery = retry_until_settled(email_delivery(member), settings.DELIVERY_MAX_ATTEMPTS - 1)
    assert delivery.status == Status.QUEUED


def test_queued_delivery_goes_out_once_the_server_is_back(smtp_down, smtp_server, zone,
                                                          verifier, settings):
    member = make_member("Ana", "es", email="ana@example.com")
    confirm_incident(verifier)
    outbox.drain()
    use_smtp(settings, smtp_server.port)
    delivery = retry_until_settled(email_delivery(member), 1)
    assert delivery.status == Status.SENT and delivery.attempts == 2
    assert len(smtp_server.received) == 1


def test_code_to_an_unreachable_server_waits_and_the_page_still_answers(smtp_down, client, db):
    response = client.post("/join/", {
        "email": "ana@example.com", "channels": ["email"], "language": "en",
        "latitude_1": str(BOYLE[0]), "longitude_1": str(BOYLE[1]), "consent": "yes"})
    assert response.status_code == 302
    outbox.drain()
    assert Delivery.objects.get(member=Member.objects.get()).status == Status.QUEUED
