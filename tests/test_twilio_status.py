"""Twilio's status callbacks (POST /hooks/twilio/status) settle what became of each SMS."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from rapidresponse.channels.sms.models import DeliveryReceipt
from rapidresponse.channels.sms.twilio import TwilioSmsBackend
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Status
from rapidresponse.delivery.transport import Outbound, transport_for
from rapidresponse.lib import crypto
from rapidresponse.members.contacts import index_for
from rapidresponse.members.models import ContactPoint
from tests.conftest import BOYLE, make_member
from tests.stubs.twilio_stub import PUBLIC_URL, serve_for, signature

PHONE = "+12135550101"


@pytest.fixture
def twilio(settings: Any) -> Any:
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "sms": 1000}
    yield from serve_for(settings)


def callback(client: Any, delivery: Delivery, status: str, *, sid: str = "",
             error_code: str = "", signed: bool = True) -> Any:
    path = f"/hooks/twilio/status?d={delivery.pk}"
    params = {"MessageSid": sid or delivery.provider_id, "MessageStatus": status,
              "AccountSid": "AC" + "0" * 31 + "1", "To": PHONE}
    if error_code:
        params["ErrorCode"] = error_code
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature(PUBLIC_URL + path, params)} if signed else {}
    return client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded",
                       **headers)


def sent_alert(client: Any, verifier: Any, deliver: Any, **member: Any) -> Delivery:
    ana = make_member("Ana", "en", phone=PHONE, at=BOYLE, **member)
    r = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "arrests", "agency": "ice"},
                    content_type="application/json")
    r = verifier.client.post(f"/verify/{r.json()['incident_id']}/",
                             {"outcome": "confirmed", "send": "1"})  # after the preview
    assert r.status_code == 302
    deliver()
    return Delivery.objects.get(member=ana, channel="sms")


def test_delivered_is_recorded_and_shown_on_the_incident_page(
        client, zone, verifier, dispatcher, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    assert callback(client, delivery, "delivered").status_code == 204
    assert DeliveryReceipt.objects.get(delivery=delivery).status == "delivered"
    incident_id = delivery.message.alert.incident_id
    page = dispatcher.client.get(f"/console/incidents/{incident_id}/").content.decode()
    assert "Delivered to the phone" in page


def test_an_unsigned_callback_is_refused_and_changes_nothing(
        client, zone, verifier, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    r = callback(client, delivery, "undelivered", error_code="30006", signed=False)
    assert r.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert not DeliveryReceipt.objects.exists()


def test_undelivered_for_good_disables_the_number(client, zone, verifier, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    callback(client, delivery, "undelivered", error_code="30006")  # a landline
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "30006" in delivery.error
    assert ContactPoint.objects.get(pk__in=delivery.member.contacts.filter(kind="sms")
                                    ).disabled_at is not None


def test_a_member_whose_sms_failed_for_good_gets_the_alert_by_email(
        client, zone, verifier, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    # She added an email address after the alert went out.
    ContactPoint.objects.create(
        member=delivery.member, kind="email", value_encrypted=crypto.encrypt("ana@example.org"),
        blind_index=index_for("email", "ana@example.org"), verified_at=timezone.now())
    callback(client, delivery, "failed", error_code="21610")
    deliver()
    [email] = ConsoleMessage.objects.filter(member=delivery.member, channel="email")
    assert email.text.startswith("VERIFIED")


def test_a_passing_failure_keeps_the_number(client, zone, verifier, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    callback(client, delivery, "undelivered", error_code="30003")  # phone switched off
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.member.contacts.get(kind="sms").disabled_at is None


def test_a_late_sent_does_not_undo_delivered(client, zone, verifier, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    callback(client, delivery, "delivered")
    callback(client, delivery, "sent")
    assert DeliveryReceipt.objects.get(delivery=delivery).status == "delivered"


def test_a_callback_for_another_message_is_ignored(client, zone, verifier, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    r = callback(client, delivery, "failed", sid="SM" + "e" * 32, error_code="21211")
    assert r.status_code == 204
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.member.contacts.get(kind="sms").disabled_at is None


def test_a_callback_settles_a_send_whose_answer_was_lost(
        client, zone, verifier, twilio, deliver):
    verifier.staff.member.contacts.update(enabled=False)
    twilio.drop_next()
    delivery = sent_alert(client, verifier, deliver)
    assert delivery.status == Status.UNKNOWN
    [message] = twilio.messages_to(PHONE)
    callback(client, delivery, "delivered", sid=message.sid)
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert delivery.provider_id == message.sid


def test_a_callback_without_a_status_is_a_clear_400(client, zone, verifier, twilio, deliver):
    delivery = sent_alert(client, verifier, deliver)
    r = callback(client, delivery, "")
    assert r.status_code == 400
    assert b"MessageStatus" in r.content


class _FailsBeforeTheWorkerWritesItDown(TwilioSmsBackend):
    """Twilio at its quickest: the carrier's "failed" callback comes back while the worker
    still holds the send's answer (it writes outcomes in groups)."""

    def send(self, message: Outbound) -> str:
        from django.test import Client

        sid = super().send(message)
        delivery = Delivery.objects.get(pk=message.delivery_id)
        assert delivery.status == Status.SENDING and not delivery.provider_id
        r = callback(Client(), delivery, "failed", sid=sid, error_code="30006")
        assert r.status_code == 204
        return sid


def test_a_failure_reported_before_the_send_was_written_down_stays_a_failure(
        client, zone, verifier, twilio, deliver, settings):
    settings.CHANNEL_BACKENDS = {
        **settings.CHANNEL_BACKENDS,
        "sms": "tests.test_twilio_status._FailsBeforeTheWorkerWritesItDown"}
    transport_for.cache_clear()
    verifier.staff.member.contacts.update(enabled=False)
    try:
        delivery = sent_alert(client, verifier, deliver, email="ana@example.org")
    finally:
        transport_for.cache_clear()
    assert delivery.status == Status.FAILED
    assert "30006" in delivery.error
    [message] = twilio.messages_to(PHONE)
    assert delivery.provider_id == message.sid
    # The landline is disabled and she has the alert by email instead.
    assert delivery.member.contacts.get(kind="sms").disabled_at is not None
    [email] = ConsoleMessage.objects.filter(member=delivery.member, channel="email")
    assert email.text.startswith("VERIFIED")
