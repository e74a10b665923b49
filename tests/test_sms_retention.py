"""Retention of what the SMS channel keeps: message SIDs, conversations and their numbers."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from rapidresponse.channels.sms.models import InboundSms, SmsThread, SmsThreadMessage
from rapidresponse.jobs.retention import enforce_retention
from tests.stubs.twilio_stub import PUBLIC_URL, serve_for, signature

SENDER = "+12135550177"


@pytest.fixture
def twilio(settings: Any) -> Any:
    yield from serve_for(settings)


def text(client: Any, body: str, sid: str = "") -> Any:
    params = {"MessageSid": sid or "SM" + secrets.token_hex(16), "Body": body, "From": SENDER,
              "To": "+12135550100"}
    path = "/hooks/twilio/sms"
    return client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded",
                       HTTP_X_TWILIO_SIGNATURE=signature(PUBLIC_URL + path, params))


def test_received_message_sids_are_forgotten_after_two_days(client, zone, twilio):
    text(client, "hello")
    InboundSms.objects.update(received_at=timezone.now() - timedelta(days=3))
    text(client, "still there?")
    enforce_retention()
    assert InboundSms.objects.count() == 1


def test_texts_are_deleted_with_the_report_details(client, zone, twilio, settings):
    text(client, "ICE on my street")
    SmsThreadMessage.objects.update(
        created_at=timezone.now() - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS + 1))
    text(client, "Boyle Heights")
    enforce_retention()
    assert [m.text for m in SmsThreadMessage.objects.filter(direction="in")] == ["Boyle Heights"]


def test_a_silent_conversation_and_its_number_are_deleted(client, zone, twilio, settings):
    text(client, "ICE on my street")
    SmsThread.objects.update(
        updated_at=timezone.now() - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS + 1))
    enforce_retention()
    assert not SmsThread.objects.exists()
    assert not SmsThreadMessage.objects.exists()


def test_a_recent_conversation_is_kept(client, zone, twilio):
    text(client, "ICE on my street")
    enforce_retention()
    assert SmsThread.objects.get().number_encrypted

