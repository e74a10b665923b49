"""Who sees which committee (built on accounts.access: read its docstring).

- **Coordinators and dispatchers** manage the committees of their zones; a committee of
  another zone answers 404, as if it did not exist.
- **Other staff** (verifiers, responders) get 404 on the committee pages.
- **Members** see a committee's public page (its name, zone and languages: never who is
  in it) and their own committees on /me/.
- **Tags** are managed by coordinators: the tags of their zones and network-wide ones."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from rapidresponse.accounts.access import CONSOLE_ROLES, AnyUser, scope_of, staff_of
from rapidresponse.accounts.models import Role, Staff
from rapidresponse.committees.models import Committee
from rapidresponse.members.models import Member, Tag
from rapidresponse.zones.models import Zone, ZoneCell


def organiser(user: AnyUser | None) -> Staff:
    """A coordinator or dispatcher (404 for other staff)."""
    staff = staff_of(user)
    if staff is None or staff.role not in CONSOLE_ROLES:
        raise Http404
    return staff


def committees_in_scope(user: AnyUser | None) -> QuerySet[Committee]:
    return Committee.objects.filter(scope_of(user).zone_q("zone")).select_related("zone")


def access_committee(user: AnyUser | None, committee_id: int) -> tuple[Staff, Committee]:
    staff = organiser(user)
    committee = committees_in_scope(user).filter(pk=committee_id).first()
    if committee is None:
        raise Http404
    return staff, committee


def organiser_zones(user: AnyUser | None) -> list[Zone]:
    scope = scope_of(user)
    qs = Zone.objects.order_by("name")
    return list(qs if scope.network_wide else qs.filter(pk__in=scope.zone_ids))


def committees_near(member: Member) -> QuerySet[Committee]:
    """The committees of the zones that hold one of the member's places."""
    cells = member.watch_areas.values("cell")
    zones = ZoneCell.objects.filter(cell__in=cells).values("zone_id")
    return Committee.objects.filter(zone_id__in=zones).select_related("zone")


def tag_manager(user: AnyUser | None) -> Staff:
    staff = staff_of(user)
    if staff is None or staff.role != Role.COORDINATOR:
        raise Http404
    return staff


def tags_in_scope(user: AnyUser | None) -> QuerySet[Tag]:
    scope = scope_of(user)
    if scope.network_wide:
        return Tag.objects.select_related("zone")
    return Tag.objects.filter(Q(zone__isnull=True) | Q(zone_id__in=scope.zone_ids)
                              ).select_related("zone")
