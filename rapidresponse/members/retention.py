"""Members' retention rules (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from rapidresponse.jobs.registry import retention
from rapidresponse.jobs.retention import deleted
from rapidresponse.members.models import ContactPoint, Member


@retention("pending_members", model="members.Member",
           rule="sign-ups never confirmed: deleted after RETENTION_UNCONFIRMED_MEMBER_HOURS")
def pending_members(now: datetime) -> int:
    return deleted(Member.objects.filter(
        status=Member.Status.PENDING,
        created_at__lt=now - timedelta(hours=settings.RETENTION_UNCONFIRMED_MEMBER_HOURS)))


@retention("opted_out_values", model="members.ContactPoint",
           rule="a member who left: phone numbers and emails erased at once (and by this job "
                "wherever one was left)")
def opted_out_values(now: datetime) -> int:
    return ContactPoint.objects.filter(member__status=Member.Status.OPTED_OUT).exclude(
        value_encrypted="").update(value_encrypted="")


@retention("opted_out_members", model="members.Member",
           rule="a member who left: name and places erased at once; the blind index that "
                "keeps the opt-out honoured is deleted after RETENTION_OPTED_OUT_DAYS")
def opted_out_members(now: datetime) -> int:
    return deleted(Member.objects.filter(
        status=Member.Status.OPTED_OUT,
        opted_out_at__lt=now - timedelta(days=settings.RETENTION_OPTED_OUT_DAYS)))

