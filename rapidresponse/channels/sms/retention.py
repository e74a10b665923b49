"""Retention rules of the SMS channel (called by rapidresponse.web.retention)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from rapidresponse.channels.sms.models import InboundSms, SmsThread, SmsThreadMessage

# Twilio retries a webhook within minutes; a day is plenty to recognise a retry.
INBOUND_SID_DAYS = 2


def enforce_sms_retention(now: datetime) -> dict[str, int]:
    details = now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)
    done = {
        "sms_inbound_sids": InboundSms.objects.filter(
            received_at__lt=now - timedelta(days=INBOUND_SID_DAYS)).delete()[0],
        # Texts are free text, like a report's notes: kept as long as those.
        "sms_thread_messages": SmsThreadMessage.objects.filter(
            created_at__lt=details).delete()[0],
    }
    # A thread (the encrypted number, a draft) goes once nothing was said for that long.
    done["sms_threads"] = SmsThread.objects.filter(updated_at__lt=details).delete()[1].get(
        "sms.SmsThread", 0)
    return done
