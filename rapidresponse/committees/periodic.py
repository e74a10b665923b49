"""The retention rules and the privacy manifest of committees (registered with
rapidresponse.jobs when the app is ready).

Who is in which committee is personal data: a member who leaves a committee loses the row
at once (do_leave), and a member who leaves the network loses all of theirs (at once on
opt-out through `member_opted_out`, and by the job wherever one was left). Old versions of
a plan (they name people by first name) go after RETENTION_PLAN_VERSIONS_DAYS; the current
version always stays."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, OuterRef, Subquery
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from rapidresponse.committees.models import CommitteeMember, PlanVersion
from rapidresponse.jobs.registry import not_personal, personal_data, retention
from rapidresponse.jobs.retention import deleted
from rapidresponse.members.models import Member
from rapidresponse.members.signals import member_opted_out


@receiver(member_opted_out)
def _left_the_network(sender: Any, member: Member, **kwargs: Any) -> None:
    CommitteeMember.objects.filter(member=member).delete()


@retention("former_committee_members", model="committees.CommitteeMember",
           rule=_("a member who left the network: their committee memberships deleted at "
                  "once (and by this job wherever one was left); leaving a committee deletes "
                  "the row at once"))
def former_members(now: datetime) -> int:
    return deleted(CommitteeMember.objects.filter(member__status=Member.Status.OPTED_OUT))


@retention("old_plan_versions", model="committees.PlanVersion",
           rule=_("versions of a response plan older than RETENTION_PLAN_VERSIONS_DAYS are "
                  "deleted; the current version always stays"))
def old_plan_versions(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_PLAN_VERSIONS_DAYS)
    newest = (PlanVersion.objects.filter(committee=OuterRef("committee"))
              .values("committee").annotate(n=Max("number")).values("n"))
    return deleted(PlanVersion.objects.filter(created_at__lt=cutoff)
                   .exclude(number=Subquery(newest)))


personal_data(
    "committees.CommitteeMember", fields=("member", "role"), category="organizing",
    purpose=_("who is in which block committee, and with which role, to reach them with "
              "the plan and the captains with alerts"),
    protection=_("seen by staff of the committee's zone; the member sees and leaves their "
                 "own on /me/"),
    retention=("former_committee_members",), dated_by="joined_at")
personal_data(
    "committees.PlanVersion",
    fields=("hotline_caller", "observers", "neighbour_checks", "pickup_backups",
            "phone_tree", "author"),
    category="organizing",
    purpose=_("what the block does if ICE shows up: who calls, observes, checks on whom and "
              "picks up which children (first names or nicknames only, never addresses)"),
    protection=_("first names or nicknames only; texts that look like a phone number or a "
                 "home address are refused"),
    retention=("old_plan_versions",))
not_personal(
    "committees.Committee", fields=("name", "code"),
    why=_("a block committee's name and its public join code: a group, not a person"))
not_personal(
    "committees.CommitteeCell", fields=("cell",),
    why=_("a cell of the committee's area: a neighbourhood, not a person's place"))
not_personal(
    "committees.PlanVersion", fields=("number", "meeting_point", "materials",
                                      "material_languages"),
    why=_("the version number, a public landmark and the know-your-rights materials to "
          "hand out"))
