"""The committees' SMS commands: `JOIN <code>` / `UNIRME <code>` joins a committee, `PLAN`
answers the short version of the plan of the sender's committees."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from rapidresponse.channels.sms.threads import Sender
from rapidresponse.committees.actions import current_plan, do_join
from rapidresponse.committees.messages import plan_short
from rapidresponse.committees.models import Committee, CommitteeMember
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.models import Member


def _member(sender: Sender) -> Member | None:
    member = sender.member
    return member if member is not None and member.status == Member.Status.ACTIVE else None


def join(sender: Sender, language: str, text: str) -> str | None:
    code = text.split(None, 1)[1].strip().upper() if len(text.split()) > 1 else ""
    with translation.override(language):
        member = _member(sender)
        if member is None:
            return _("Sign up for alerts first to join a committee.")
        committee = Committee.objects.filter(code=code).first()
        if committee is None:
            return _("There is no committee with the code %(code)s.") % {"code": code[:12]}
        try:
            do_join(committee, member)
        except InvalidInput:
            return _("Sign up for alerts first to join a committee.")
        return _("You are in %(name)s. Text PLAN for its response plan.") % {
            "name": committee.name}


def plan(sender: Sender, language: str, text: str) -> str | None:
    member = _member(sender)
    if member is None:
        return None  # not a member: the text goes on to the conversation
    rows = (CommitteeMember.objects.filter(member=member).select_related("committee")
            .order_by("joined_at"))
    with translation.override(language):
        if not rows:
            return _("You are in no committee. Text JOIN and the committee's code to join.")
        return " | ".join(plan_short(r.committee, current_plan(r.committee)) for r in rows)
