"""Who sees which support case and who manages the partner directory (built on
accounts.access: read its docstring).

- **Coordinators** see the cases of their zones (every case, network-wide).
- **Family-support volunteers** (staff with the family_support skill) see the cases they
  are assigned to and those of the zones they work in.
- **Everyone else** gets 404 on every page of the app, as if it did not exist: a dispatcher
  who recorded a detention does not see the case the family then opened.

The partner directory is for the same people; coordinators add and edit the partners of
their zones (network-wide ones: partners of no zone, who serve the whole network)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from rapidresponse.accounts.access import AnyUser, scope_of, staff_of
from rapidresponse.accounts.models import Role, Staff
from rapidresponse.responders.models import ResponderSkill, Skill
from rapidresponse.support.models import Partner, SupportCase
from rapidresponse.zones.models import Zone


def has_family_support(staff: Staff) -> bool:
    return ResponderSkill.objects.filter(profile__staff=staff,
                                         skill=Skill.FAMILY_SUPPORT).exists()


def supporter(user: AnyUser | None) -> Staff:
    """A coordinator or a family-support volunteer (404 for anyone else)."""
    staff = staff_of(user)
    if staff is None:
        raise Http404
    if staff.role != Role.COORDINATOR and not has_family_support(staff):
        raise Http404
    return staff


def cases_in_scope(staff: Staff) -> QuerySet[SupportCase]:
    qs = SupportCase.objects.select_related("zone", "assigned__user", "detention__incident")
    reach = scope_of(staff.user).zone_q("zone")
    if staff.role == Role.COORDINATOR:
        return qs.filter(reach)
    if has_family_support(staff):
        return qs.filter(reach | Q(assigned=staff))
    return qs.none()


def access_case(user: AnyUser | None, case_id: int) -> tuple[Staff, SupportCase]:
    staff = supporter(user)
    case = cases_in_scope(staff).filter(pk=case_id).first()
    if case is None:
        raise Http404
    return staff, case


def may_see_case(staff: Staff | None, case: SupportCase) -> bool:
    return staff is not None and cases_in_scope(staff).filter(pk=case.pk).exists()


def partner_manager(user: AnyUser | None) -> Staff:
    """A coordinator (404 for anyone else)."""
    staff = staff_of(user)
    if staff is None or staff.role != Role.COORDINATOR:
        raise Http404
    return staff


def managed_partners(staff: Staff) -> QuerySet[Partner]:
    scope = scope_of(staff.user)
    if scope.network_wide:
        return Partner.objects.all()
    return Partner.objects.filter(zone_id__in=scope.zone_ids)


def access_partner(user: AnyUser | None, partner_id: int) -> tuple[Staff, Partner]:
    staff = partner_manager(user)
    partner = managed_partners(staff).filter(pk=partner_id).first()
    if partner is None:
        raise Http404
    return staff, partner


def partner_zones(staff: Staff) -> list[Zone]:
    """The zones a coordinator may give a partner."""
    scope = scope_of(staff.user)
    qs = Zone.objects.order_by("name")
    return list(qs if scope.network_wide else qs.filter(pk__in=scope.zone_ids))
