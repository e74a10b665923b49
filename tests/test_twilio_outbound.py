"""Alerts by SMS through Twilio's API: real HTTP to a local stub of Twilio, through the
worker's delivery loop. What members and staff would notice: the message arrives once, from
a stable number, and errors are retried, parked or reconciled, never sent twice."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rapidresponse.channels.sms.segments import count_segments
from rapidresponse.channels.sms.twilio import TwilioSmsBackend, sender_for
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Status
from rapidresponse.delivery.transport import Attempt, Outbound
from rapidresponse.members.models import ContactPoint
from tests.conftest import BOYLE, make_member
from tests.stubs.twilio_stub import PUBLIC_URL, serve_for

PHONE = "+12135550101"


@pytest.fixture
def twilio(settings: Any) -> Any:
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "sms": 1000}
    yield from serve_for(settings)


@pytest.fixture
def twilio_pool(settings: Any) -> Any:
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "sms": 1000}
    yield from serve_for(settings, pool=["+12135550001", "+12135550002", "+12135550003"])


def confirm_alert(client: Any, verifier: Any, *, drill_by: Any = None) -> int:
    """A report on the API, confirmed on the verifier's page: the alert goes out. Only staff
    (`drill_by`) can report a drill."""
    auth = drill_by.api() if drill_by is not None else {}
    r = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "arrests", "agency": "ice",
                                        "is_drill": drill_by is not None},
                    content_type="application/json", **auth)
    assert r.status_code == 201, r.content
    incident_id = int(r.json()["incident_id"])
    r = verifier.client.post(f"/verify/{incident_id}/", {"outcome": "confirmed", "send": "1"})
    assert r.status_code == 302, r.content
    return incident_id


def delivery_to(member: Any) -> Delivery:
    return Delivery.objects.get(member=member, channel="sms", message__kind="alert")


def make_due() -> None:
    """Time passes: whatever was waiting for a retry or a reconciliation is due now."""
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_an_alert_reaches_twilio_through_the_messaging_service(
        client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    [sent] = twilio.messages_to(PHONE)
    assert sent.body.startswith("VERIFIED")
    assert sent.messaging_service_sid.startswith("MG") and sent.from_ == ""
    delivery = delivery_to(member)
    assert delivery.status == Status.SENT
    assert delivery.provider_id == sent.sid


def test_each_message_asks_for_status_callbacks_to_the_public_url(
        client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    [sent] = twilio.messages_to(PHONE)
    assert sent.status_callback == (f"{PUBLIC_URL}/hooks/twilio/status"
                                    f"?d={delivery_to(member).pk}")


def test_twilio_is_asked_not_to_keep_the_text(client, zone, verifier, twilio, deliver):
    make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    [request] = [r for r in twilio.requests if r.to == PHONE]
    assert request.params["ContentRetention"] == "discard"


def test_content_retention_is_not_sent_when_switched_off(
        client, zone, verifier, twilio, deliver, settings):
    settings.TWILIO_CONTENT_RETENTION = ""
    make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    [request] = [r for r in twilio.requests if r.to == PHONE]
    assert "ContentRetention" not in request.params


def test_a_pool_sends_each_recipient_from_one_stable_number(
        client, zone, verifier, dispatcher, twilio_pool, deliver):
    make_member("Ana", "en", phone=PHONE)
    incident_id = confirm_alert(client, verifier)
    deliver()
    r = dispatcher.client.post(f"/console/incidents/{incident_id}/resolve/",
                               {"send": "1"})  # after the preview
    assert r.status_code == 302
    deliver()
    senders = {m.from_ for m in twilio_pool.messages_to(PHONE)}
    assert len(twilio_pool.messages_to(PHONE)) == 2
    assert senders == {sender_for(PHONE)}
    assert senders <= {"+12135550001", "+12135550002", "+12135550003"}


def test_spanish_sms_goes_in_gsm7_without_losing_the_accents_of_email(
        client, zone, verifier, twilio, deliver):
    make_member("María", "es", phone=PHONE, email="maria@example.org")
    confirm_alert(client, verifier)
    deliver()
    [sms] = twilio.messages_to(PHONE)
    email = ConsoleMessage.objects.get(channel="email")
    assert "inmigración" in email.text
    assert "inmigracion" in sms.body
    assert count_segments(sms.body).encoding == "GSM-7"
    assert count_segments(sms.body).segments <= 2


def test_drills_never_reach_twilio(client, zone, verifier, dispatcher, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier, drill_by=dispatcher)
    deliver()
    assert twilio.messages == []
    assert ConsoleMessage.objects.filter(member=member, is_drill=True).count() == 1


def test_a_throttled_send_waits_as_long_as_twilio_asks(client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    twilio.fail_next(429, retry_after="120", times=2)  # the verifier's SMS and Ana's
    confirm_alert(client, verifier)
    deliver()
    delivery = delivery_to(member)
    assert delivery.status == Status.QUEUED
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=100)
    assert twilio.messages_to(PHONE) == []


def test_a_throttled_send_goes_out_once_later(client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    twilio.fail_next(429, retry_after="120", times=2)
    confirm_alert(client, verifier)
    deliver()
    make_due()
    deliver()
    assert len(twilio.messages_to(PHONE)) == 1
    assert delivery_to(member).status == Status.SENT


def test_a_server_error_is_retried(client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    twilio.fail_next(500, times=2)
    confirm_alert(client, verifier)
    deliver()
    assert delivery_to(member).status == Status.QUEUED
    make_due()
    deliver()
    assert delivery_to(member).status == Status.SENT
    assert len(twilio.messages_to(PHONE)) == 1


def test_an_invalid_number_disables_the_contact_point(client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    twilio.fail_to(PHONE, 400, code=21211)
    confirm_alert(client, verifier)
    deliver()
    assert delivery_to(member).status == Status.FAILED
    assert ContactPoint.objects.get(member=member, kind="sms").disabled_at is not None


def test_a_refused_request_that_is_not_the_recipients_fault_keeps_the_contact(
        client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    twilio.fail_next(400, code=21617, times=2)  # body too long: our problem, not hers
    confirm_alert(client, verifier)
    deliver()
    assert delivery_to(member).status == Status.QUEUED
    assert ContactPoint.objects.get(member=member, kind="sms").disabled_at is None


def test_a_lost_answer_is_not_resent_but_reconciled(client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE, at=BOYLE)
    verifier.staff.member.contacts.update(enabled=False)  # only Ana's SMS goes to Twilio
    twilio.drop_next()
    confirm_alert(client, verifier)
    deliver()
    assert delivery_to(member).status == Status.UNKNOWN
    make_due()
    outbox.reconcile_unknown()
    deliver()
    assert delivery_to(member).status == Status.SENT
    assert len(twilio.messages_to(PHONE)) == 1


def test_a_timed_out_send_is_reconciled_not_resent(
        client, zone, verifier, twilio, deliver, settings):
    settings.OUTBOUND_HTTP_TIMEOUT = 0.5
    member = make_member("Ana", "en", phone=PHONE, at=BOYLE)
    verifier.staff.member.contacts.update(enabled=False)
    twilio.hang_next(1.5)
    confirm_alert(client, verifier)
    deliver()
    assert delivery_to(member).status == Status.UNKNOWN
    make_due()
    outbox.reconcile_unknown()
    deliver()
    assert delivery_to(member).status == Status.SENT
    assert len(twilio.messages_to(PHONE)) == 1


def test_a_send_that_never_reached_twilio_is_retried(
        client, zone, verifier, twilio, deliver, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{closed}"
    member = make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    delivery = delivery_to(member)
    assert delivery.status == Status.QUEUED
    assert delivery.attempts == 1


def _attempt(delivery_id: int = 10**9, sid: str = "", to: str = PHONE) -> Attempt:
    return Attempt(delivery_id=delivery_id, provider_id=sid, to=to,
                   started_at=timezone.now())


def _outbound(delivery_id: int = 10**9) -> Outbound:
    return Outbound(delivery_id=delivery_id, member_id=1, channel="sms", to=PHONE,
                    to_masked="***0101", language="en", subject="", text="Test",
                    is_drill=False, kind="notice")


@pytest.mark.django_db
def test_reconcile_reports_a_message_twilio_could_not_deliver_as_failed(twilio):
    backend = TwilioSmsBackend()
    sid = backend.send(_outbound())
    twilio.set_status(sid, "undelivered", 30003)
    assert backend.reconcile(_attempt(sid=sid)) == "failed"


@pytest.mark.django_db
def test_reconcile_without_a_sid_finds_no_message_and_says_failed(twilio):
    assert TwilioSmsBackend().reconcile(_attempt()) == "failed"


def test_reconcile_without_a_sid_ignores_a_message_another_delivery_has(
        client, zone, verifier, twilio, deliver):
    make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()  # Ana's alert is at Twilio, recorded on its delivery
    assert TwilioSmsBackend().reconcile(_attempt()) == "failed"


def test_without_twilio_settings_nothing_is_sent_and_the_delivery_waits(
        client, zone, verifier, twilio, deliver, settings):
    settings.TWILIO_ACCOUNT_SID = ""
    member = make_member("Ana", "en", phone=PHONE)
    confirm_alert(client, verifier)
    deliver()
    delivery = delivery_to(member)
    assert twilio.messages == []
    assert delivery.status == Status.QUEUED
    assert "not configured" in delivery.error


@pytest.mark.django_db
def test_the_rate_limit_is_per_sender_number(twilio_pool):
    backend = TwilioSmsBackend()
    assert backend.rate_limit_key(_outbound()) == f"sms:{sender_for(PHONE)}"


def _two_lost_notices(settings: Any, twilio: Any, deliver: Any) -> tuple[Delivery, Delivery]:
    """Two messages to Ana whose answers were lost: the first reached Twilio (its answer
    was dropped), the second never left (its worker was killed right after the claim)."""
    settings.DELIVERY_LEASE_SECONDS = 10
    ana = make_member("Ana", "en", phone=PHONE, at=BOYLE)
    first = outbox.send_to_member(ana, "notice", {"en": {"text": "Meeting at 6"}})
    twilio.drop_next()
    deliver()
    second = outbox.send_to_member(ana, "notice", {"en": {"text": "Meeting moved to 7"}})
    (claimed,) = outbox.claim_batch()  # ... and the worker dies
    Delivery.objects.filter(pk=claimed.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=15))
    make_due()
    return Delivery.objects.get(message=first), Delivery.objects.get(message=second)


def test_a_reconciled_send_keeps_its_sid_so_a_second_lost_send_is_not_taken_for_it(
        db, settings, twilio, deliver):
    first, second = _two_lost_notices(settings, twilio, deliver)
    assert (first.status, second.status) == (Status.UNKNOWN, Status.SENDING)
    outbox.reconcile_unknown()
    first.refresh_from_db()
    [at_twilio] = twilio.messages_to(PHONE)
    assert (first.status, first.provider_id) == (Status.SENT, at_twilio.sid)
    outbox.sweep_stale_claims()  # the one message at Twilio is the first's: send the second
    deliver()
    second.refresh_from_db()
    assert second.status == Status.SENT
    assert sorted(m.sid for m in twilio.messages_to(PHONE)) == sorted(
        [first.provider_id, second.provider_id])


def test_where_twilio_keeps_bodies_a_lost_send_is_matched_by_its_text(
        db, settings, twilio, deliver):
    settings.TWILIO_CONTENT_RETENTION = ""
    first, second = _two_lost_notices(settings, twilio, deliver)
    outbox.sweep_stale_claims()  # asked first about the one that never left
    deliver()
    outbox.reconcile_unknown()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.SENT, Status.SENT)
    bodies = sorted(m.body for m in twilio.messages_to(PHONE))
    assert bodies == ["Meeting at 6", "Meeting moved to 7"]
