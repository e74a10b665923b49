"""Retention rules of the SMS channel (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from rapidresponse.channels.sms.models import InboundSms, SmsThread, SmsThreadMessage
from rapidresponse.jobs.registry import retention
from rapidresponse.jobs.retention import deleted

# Twilio retries a webhook within minutes; a day is plenty to recognise a retry.
INBOUND_SID_DAYS = 2


@retention("sms_inbound_sids", model="sms.InboundSms",
           rule="received message ids (to process a retried webhook once): deleted after two "
                "days")
def inbound_sids(now: datetime) -> int:
    return deleted(InboundSms.objects.filter(
        received_at__lt=now - timedelta(days=INBOUND_SID_DAYS)))


@retention("sms_thread_messages", model="sms.SmsThreadMessage",
           rule="texts (free text, like a report's notes): deleted after "
                "RETENTION_REPORT_DETAILS_DAYS")
def thread_messages(now: datetime) -> int:
    return deleted(SmsThreadMessage.objects.filter(
        created_at__lt=now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)))


@retention("sms_threads", model="sms.SmsThread",
           rule="a conversation (the encrypted number, a draft report): deleted once nothing "
                "was said for RETENTION_REPORT_DETAILS_DAYS")
def threads(now: datetime) -> int:
    return deleted(SmsThread.objects.filter(
        updated_at__lt=now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)))
