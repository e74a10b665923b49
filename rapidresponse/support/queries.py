"""Reads shared by the pages and the reminder job: the zones above a zone, the partners to
suggest for a case, the people a case may be given to, a case's notes in clear."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from rapidresponse.accounts.models import Role, Staff
from rapidresponse.lib import crypto
from rapidresponse.responders.models import ResponderSkill, Skill
from rapidresponse.support.models import CaseNote, Need, NeedState, Partner, SupportCase
from rapidresponse.zones.models import Zone


def with_ancestors(zone: Zone | None) -> list[int]:
    """The zone's id and those of the zones that hold it (Los Angeles holds Boyle Heights)."""
    ids: list[int] = []
    while zone is not None and zone.pk not in ids:
        ids.append(zone.pk)
        zone = zone.parent
    return ids


def serving(zone: Zone | None) -> Q:
    """Partners that serve a place in this zone: of the zone, of a zone holding it, or of
    the whole network."""
    return Q(zone__isnull=True) | Q(zone_id__in=with_ancestors(zone))


@dataclass(frozen=True)
class Suggestion:
    need: str
    label: str
    partners: list[Partner]


def suggestions(case: SupportCase) -> list[Suggestion]:
    """For each open need, the partners of the case's zone offering it in the family's
    language."""
    open_needs = [n for n in Need if case.needs.get(n.value) == NeedState.OPEN]
    if not open_needs:
        return []
    partners = list(Partner.objects.filter(serving(case.zone)).select_related("zone"))
    return [Suggestion(n.value, str(n.label),
                       [p for p in partners
                        if n.value in p.services and case.language in p.languages])
            for n in open_needs]


def volunteers_for(case: SupportCase) -> QuerySet[Staff]:
    """Whom a case may be given to: active family-support volunteers and coordinators who
    work in the case's zone (or network-wide)."""
    skilled = ResponderSkill.objects.filter(skill=Skill.FAMILY_SUPPORT).values(
        "profile__staff_id")
    works_here = Q(network_wide=True) | Q(zones__in=with_ancestors(case.zone))
    return (Staff.objects.filter(user__is_active=True)
            .filter(Q(pk__in=skilled) | Q(role=Role.COORDINATOR)).filter(works_here)
            .select_related("user").distinct().order_by("user__username"))


def name_of(staff: Staff | None) -> str:
    if staff is None:
        return ""
    return staff.user.get_full_name() or staff.user.username


@dataclass(frozen=True)
class Note:
    author: str
    text: str
    created_at: object


def notes_of(case: SupportCase) -> list[Note]:
    return [Note(name_of(n.author), decrypt_or_blank(n.text_encrypted), n.created_at)
            for n in CaseNote.objects.filter(case=case).select_related("author__user")]


def decrypt_or_blank(token: str) -> str:
    return crypto.decrypt(token) if token else ""
