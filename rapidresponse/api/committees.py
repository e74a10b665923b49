"""/api/v1 committee endpoints: create a committee in one of the caller's zones, add a member
with a role. Coordinators and dispatchers (403 for other staff); a committee of another zone
answers 404. Added to the API in v1.py, behind the bearer token."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router

from rapidresponse.accounts.access import CONSOLE_ROLES, access_role, members_in_scope
from rapidresponse.accounts.access import staff_of as signed_in_staff
from rapidresponse.api.schemas import Closed, Created, answers, choice
from rapidresponse.committees import actions
from rapidresponse.committees.access import committees_in_scope, organiser_zones
from rapidresponse.committees.models import Role
from rapidresponse.lib.errors import InvalidInput

router = Router(tags=["committees"])


class CommitteeIn(Closed):
    name: str = Field(max_length=100)
    zone: int | str = Field(description="The zone's id or name (one of the caller's zones).")
    languages: list[str] = Field(default_factory=list)


class CommitteeMemberIn(Closed):
    member_id: int
    role: str = choice(Role.values, Role.MEMBER)


@router.post("/committees", response=answers(201, Created, 401, 403, 422))
def create_committee(request: HttpRequest, payload: CommitteeIn) -> Any:
    """A block committee in one of the caller's zones (400 for another zone)."""
    access_role(request.user, CONSOLE_ROLES)
    zones = organiser_zones(request.user)
    zone = next((z for z in zones if payload.zone in (z.pk, z.name)), None)
    committee = actions.do_create_committee(name=payload.name, zone=zone,
                                            languages=payload.languages,
                                            actor=signed_in_staff(request.user))
    return 201, {"id": committee.pk}


@router.post("/committees/{committee_id}/members",
             response=answers(201, Created, 401, 403, 404, 422))
def add_committee_member(request: HttpRequest, committee_id: int,
                         payload: CommitteeMemberIn) -> Any:
    """Add a member of the caller's zones with a role (contact, captain, member); a member
    already in the committee gets the role given. Answers the membership's id."""
    access_role(request.user, CONSOLE_ROLES)
    committee = committees_in_scope(request.user).filter(pk=committee_id).first()
    if committee is None:
        raise Http404
    member = members_in_scope(request.user).filter(pk=payload.member_id).first()
    if member is None:
        raise InvalidInput({"member_id": _("No member with this number in your zones.")})
    row = actions.do_join(committee, member, role=payload.role,
                          actor=signed_in_staff(request.user))
    return 201, {"id": row.pk}
