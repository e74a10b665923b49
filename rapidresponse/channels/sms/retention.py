"""Retention rules of the SMS channel (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapidresponse.channels.sms.models import InboundSms, Question, SmsThread, SmsThreadMessage
from rapidresponse.jobs.registry import personal_data, retention
from rapidresponse.jobs.retention import deleted

# Twilio retries a webhook within minutes; a day is plenty to recognise a retry.
INBOUND_SID_DAYS = 2


@retention("sms_inbound_sids", model="sms.InboundSms",
           rule=_("received message ids (to process a retried webhook once): deleted after two "
                "days"))
def inbound_sids(now: datetime) -> int:
    return deleted(InboundSms.objects.filter(
        received_at__lt=now - timedelta(days=INBOUND_SID_DAYS)))


@retention("sms_thread_messages", model="sms.SmsThreadMessage",
           rule=_("texts (free text, like a report's notes): deleted after "
                "RETENTION_REPORT_DETAILS_DAYS"))
def thread_messages(now: datetime) -> int:
    return deleted(SmsThreadMessage.objects.filter(
        created_at__lt=now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)))


@retention("sms_threads", model="sms.SmsThread",
           rule=_("a conversation (the encrypted number, a draft report): deleted once nothing "
                "was said for RETENTION_REPORT_DETAILS_DAYS"))
def threads(now: datetime) -> int:
    return deleted(SmsThread.objects.filter(
        updated_at__lt=now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)))


@retention("sms_questions", model="sms.Question",
           rule=_("questions asked by SMS: deleted a day after they were answered or expired"))
def questions(now: datetime) -> int:
    day = now - timedelta(days=1)
    return deleted(Question.objects.filter(Q(answered_at__lt=day) | Q(expires_at__lt=day)))


personal_data(
    "sms.Question", fields=("contact_index",), category="conversations",
    purpose=_("sending a phone's answer to the app that asked it something"),
    protection=_("the blind index of the member's SMS contact, never the number"),
    retention=("sms_questions",), dated_by="asked_at")
personal_data(
    "sms.InboundSms", fields=("message_sid", "reply"), category="conversations",
    purpose=_("a text is handled once when Twilio retries its webhook"),
    protection=_("holds no number and no text of the sender; the reply is a fixed prompt"),
    retention=("sms_inbound_sids",), dated_by="received_at")
personal_data(
    "sms.SmsThread", fields=("blind_index", "number_encrypted", "draft_text", "draft_place"),
    category="conversations",
    purpose=_("replying to someone who texted the hotline, and their report being written"),
    protection=_("number encrypted (Fernet), found by a keyed blind index; erased when the "
               "number opts out"), retention=("sms_threads",),
    encrypted=("number_encrypted",))
personal_data(
    "sms.SmsThreadMessage", fields=("text", "author"), category="conversations",
    purpose=_("what was said with the hotline (free text: it never reaches an alert)"),
    protection=_("plain"), retention=("sms_thread_messages",))
personal_data(
    "sms.DeliveryReceipt", fields=("message_sid", "error_code"), category="messages",
    purpose=_("Twilio's last word on an SMS we sent"), protection=_("no number, no text"),
    retention=("deliveries",), dated_by="updated_at")
