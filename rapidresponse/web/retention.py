"""Retention rules: every table holding personal data has one, and this job enforces them.

- incidents.Report: notes, free text, contact and reporter key erased after
  RETENTION_REPORT_DETAILS_DAYS; deleted with its incident.
- incidents.Incident (with reports, verifications, requests, alerts): deleted
  RETENTION_INCIDENT_DAYS after the last report, once closed.
- delivery.Delivery and delivery.Message: deleted after RETENTION_DELIVERY_DAYS.
- delivery.ConsoleMessage: deleted after RETENTION_CONSOLE_MESSAGE_DAYS.
- delivery.Message of kind confirmation (one-time codes and links) with its deliveries and
  console records: deleted a day after it was written.
- members.Member waiting for confirmation: deleted after RETENTION_UNCONFIRMED_MEMBER_HOURS.
- members.Member opted out: name, places and contact values erased at once; the blind index
  that keeps the opt-out honoured is deleted after RETENTION_OPTED_OUT_DAYS.
- Push subscriptions (a member's browsers) are the value of their push contact point, so
  they go with it; push.PushEndpoint (the blind index of each browser's endpoint) is
  deleted with its contact point, when the member opts out, and by this job wherever the
  contact point's value was erased.
- members.ConfirmationCode and push.SignInCode: deleted a day after they expire.
- sms.InboundSms (received MessageSids, to process a retried webhook once): deleted after
  two days. sms.SmsThreadMessage (texts with a phone number): deleted after
  RETENTION_REPORT_DETAILS_DAYS; sms.SmsThread (the encrypted number, a draft report): deleted
  once nothing was said for that long. sms.DeliveryReceipt: deleted with its delivery.
- accounts.ApiToken: deleted once expired. accounts.AuditEntry: after RETENTION_AUDIT_DAYS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from rapidresponse.accounts.models import ApiToken, AuditEntry
from rapidresponse.alerts.models import Alert
from rapidresponse.channels.push.models import PushEndpoint, SignInCode
from rapidresponse.channels.sms.retention import enforce_sms_retention
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Kind, Message
from rapidresponse.incidents.models import OPEN_STATES, Incident, Report
from rapidresponse.members.models import ConfirmationCode, ContactPoint, Member


def _deleted(qs: QuerySet[Any]) -> int:
    """How many rows of the queryset's own model were deleted (not counting cascades)."""
    return qs.delete()[1].get(qs.model._meta.label, 0)


@transaction.atomic
def enforce_retention(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    done: dict[str, int] = {}
    done["report_details"] = Report.objects.filter(
        created_at__lt=days(settings.RETENTION_REPORT_DETAILS_DAYS)).exclude(
        notes="", contact_encrypted="", location_text="", uniform_text="", equipment_text="",
        reporter_key="").update(notes="", contact_encrypted="", location_text="",
                                uniform_text="", equipment_text="", reporter_key="")
    old_incidents = Incident.objects.filter(
        last_report_at__lt=days(settings.RETENTION_INCIDENT_DAYS)).exclude(state__in=OPEN_STATES)
    old_messages = list(Alert.objects.filter(incident__in=old_incidents)
                        .values_list("message_id", flat=True))
    done["incidents"] = _deleted(old_incidents)
    done["alert_messages"] = _deleted(Message.objects.filter(pk__in=old_messages))
    cutoff = days(settings.RETENTION_DELIVERY_DAYS)
    done["deliveries"] = _deleted(Delivery.objects.filter(created_at__lt=cutoff))
    done["messages"] = _deleted(Message.objects.filter(created_at__lt=cutoff,
                                                       alert__isnull=True))
    # One-time codes and sign-in links are useless after a day: their text goes then.
    done["code_messages"] = _deleted(Message.objects.filter(
        kind=Kind.CONFIRMATION, created_at__lt=now - timedelta(days=1)))
    done["console_messages"] = _deleted(ConsoleMessage.objects.filter(
        created_at__lt=days(settings.RETENTION_CONSOLE_MESSAGE_DAYS)))
    done["console_codes"] = _deleted(ConsoleMessage.objects.filter(
        delivery__isnull=True, created_at__lt=now - timedelta(days=1)))
    done["pending_members"] = _deleted(Member.objects.filter(
        status=Member.Status.PENDING,
        created_at__lt=now - timedelta(hours=settings.RETENTION_UNCONFIRMED_MEMBER_HOURS),
    ))
    done["opted_out_values"] = ContactPoint.objects.filter(
        member__status=Member.Status.OPTED_OUT).exclude(value_encrypted="").update(
        value_encrypted="")
    done["push_endpoints"] = _deleted(PushEndpoint.objects.filter(contact__value_encrypted=""))
    done["opted_out_members"] = _deleted(Member.objects.filter(
        status=Member.Status.OPTED_OUT,
        opted_out_at__lt=days(settings.RETENTION_OPTED_OUT_DAYS)))
    done["codes"] = _deleted(ConfirmationCode.objects.filter(
        expires_at__lt=now - timedelta(days=1)))
    done["sign_in_codes"] = _deleted(SignInCode.objects.filter(
        expires_at__lt=now - timedelta(days=1)))
    done.update(enforce_sms_retention(now))
    done["tokens"] = _deleted(ApiToken.objects.filter(expires_at__lt=now))
    done["audit"] = _deleted(AuditEntry.objects.filter(
        at__lt=days(settings.RETENTION_AUDIT_DAYS)))
    return done
