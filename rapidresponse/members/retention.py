"""Members' retention rules (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapidresponse.jobs.registry import not_personal, personal_data, retention
from rapidresponse.jobs.retention import deleted
from rapidresponse.members.models import ContactPoint, Member, MemberTag


@retention("pending_members", model="members.Member",
           rule=_("sign-ups never confirmed: deleted after RETENTION_UNCONFIRMED_MEMBER_HOURS"))
def pending_members(now: datetime) -> int:
    return deleted(Member.objects.filter(
        status=Member.Status.PENDING,
        created_at__lt=now - timedelta(hours=settings.RETENTION_UNCONFIRMED_MEMBER_HOURS)))


@retention("opted_out_values", model="members.ContactPoint",
           rule=_("a member who left: phone numbers and emails erased at once (and by this job "
                "wherever one was left)"))
def opted_out_values(now: datetime) -> int:
    return ContactPoint.objects.filter(member__status=Member.Status.OPTED_OUT).exclude(
        value_encrypted="").update(value_encrypted="")


@retention("opted_out_members", model="members.Member",
           rule=_("a member who left: name and places erased at once; the blind index that "
                "keeps the opt-out honoured is deleted after RETENTION_OPTED_OUT_DAYS"))
def opted_out_members(now: datetime) -> int:
    return deleted(Member.objects.filter(
        status=Member.Status.OPTED_OUT,
        opted_out_at__lt=now - timedelta(days=settings.RETENTION_OPTED_OUT_DAYS)))


personal_data(
    "members.Member", fields=("name", "can_witness"), category="members",
    purpose=_("how staff and messages address the member (optional; erased when they leave)"),
    protection=_("plain; no status, nationality or address is ever asked"),
    retention=("pending_members", "opted_out_members"))
personal_data(
    "members.ContactPoint", fields=("member", "value_encrypted", "blind_index",
                                    "disabled_reason"),
    category="members", purpose=_("reaching the member on the channels they chose"),
    protection=_("value encrypted (Fernet); found by a keyed blind index; the reason a channel "
               "stopped working is a provider code, never the number"),
    retention=("opted_out_values", "opted_out_members", "pending_members"),
    encrypted=("value_encrypted",), dated_by="")
personal_data(
    "members.WatchArea", fields=("member", "label", "cell"), category="members",
    purpose=_("which alerts reach the member"),
    protection=_("a resolution-8 H3 cell (about 0.7 km²) and a ring count, never the point"),
    retention=("opted_out_members", "pending_members"), dated_by="")


@retention("opted_out_tags", model="members.MemberTag",
           rule=_("a member who left: their tags removed at once (and by this job wherever "
                  "one was left)"))
def opted_out_tags(now: datetime) -> int:
    return deleted(MemberTag.objects.filter(member__status=Member.Status.OPTED_OUT))


personal_data(
    "members.MemberTag", fields=("member",), category="members",
    purpose=_("which tags a coordinator gave the member (for invitations and broadcasts)"),
    protection=_("a label chosen by coordinators; never a status or a nationality"),
    retention=("opted_out_tags", "opted_out_members", "pending_members"), dated_by="")
not_personal(
    "members.Tag", fields=("name",),
    why=_("a label for a group of members (\"parents\", \"night shift\"), not a person"))
