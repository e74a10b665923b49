"""What committees send: the plan to the committee's members (on request), the plan's short
version by SMS (`PLAN`), and the captains' reminder when an alert is confirmed in their area.
Every text is made in every language of the network; each member gets theirs."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.models import Staff
from rapidresponse.alerts.models import Alert
from rapidresponse.committees.actions import current_plan
from rapidresponse.committees.models import (
    Committee,
    CommitteeCell,
    CommitteeMember,
    PlanVersion,
    Role,
)
from rapidresponse.delivery import outbox
from rapidresponse.members.models import Member, language_codes


def plan_short(committee: Committee, plan: PlanVersion | None) -> str:
    """The plan in a few lines (an SMS), in the active language."""
    if plan is None:
        return _("%(name)s has no response plan yet.") % {"name": committee.name}
    parts = [_("%(name)s plan:") % {"name": committee.name}]
    if plan.hotline_caller:
        parts.append(_("Calls the hotline: %(who)s.") % {"who": plan.hotline_caller})
    if plan.meeting_point:
        parts.append(_("Meet at: %(where)s.") % {"where": plan.meeting_point})
    if plan.observers:
        parts.append(_("Observe and record: %(who)s.") % {"who": plan.observers})
    if plan.phone_tree:
        parts.append(_("Phone tree: %(names)s.") % {"names": " > ".join(plan.phone_tree)})
    return " ".join(parts)


def plan_bodies(committee: Committee, plan: PlanVersion | None) -> dict[str, dict[str, str]]:
    link = settings.PUBLIC_URL + reverse("committee_public", args=[committee.code])
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            subject = _("Response plan of %(name)s") % {"name": committee.name}
            bodies[lang] = {"subject": subject,
                            "text": f"{plan_short(committee, plan)} {link}"}
    return bodies


def reminder_bodies(committee: Committee, plan: PlanVersion | None,
                    alert: Alert) -> dict[str, dict[str, str]]:
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            subject = _("Alert confirmed in the area of %(name)s") % {"name": committee.name}
            head = _("Confirmed alert near %(place)s. Your plan:") % {
                "place": alert.area_name or committee.name}
            bodies[lang] = {"subject": subject,
                            "text": f"{head} {plan_short(committee, plan)}"}
    return bodies


def active_members(committee: Committee) -> list[Member]:
    return [row.member for row in
            CommitteeMember.objects.filter(committee=committee,
                                           member__status=Member.Status.ACTIVE)
            .select_related("member")]


@transaction.atomic
def do_send_plan(committee: Committee, actor: Staff | None) -> int:
    """The current plan to every active member of the committee, in their language, through
    the outbox. Returns how many members it goes to."""
    bodies = plan_bodies(committee, current_plan(committee))
    members = active_members(committee)
    if members:
        message = outbox.create_message("notice", bodies, is_drill=False)
        outbox.add_deliveries(message, [(m, c.kind, 0) for m in members
                                        for c in m.contacts.usable()])
    audit.record(actor.user if actor else None, "committee.plan_sent", committee,
                 members=len(members))
    return len(members)


def remind_captains(alert: Alert) -> int:
    """An alert was sent: the captains of every committee whose area holds its place get a
    short reminder of their plan with it (a drill's reminder goes to the console backend,
    as the drill does). Returns how many captains were reminded."""
    if alert.kind != Alert.Kind.ALERT:
        return 0
    committee_ids = (CommitteeCell.objects.filter(cell=alert.center_cell)
                     .values_list("committee_id", flat=True).distinct())
    sent = 0
    with transaction.atomic():
        for committee in Committee.objects.filter(pk__in=list(committee_ids)):
            captains = (CommitteeMember.objects.filter(committee=committee, role=Role.CAPTAIN,
                                                       member__status=Member.Status.ACTIVE)
                        .select_related("member"))
            if not captains:
                continue
            message = outbox.create_message(
                "reminder", reminder_bodies(committee, current_plan(committee), alert),
                is_drill=alert.is_drill)
            outbox.add_deliveries(message, [(row.member, c.kind, 0) for row in captains
                                            for c in row.member.contacts.usable()])
            sent += len(captains)
    return sent
