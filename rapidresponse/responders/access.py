"""Who may see and change which responder, shift and calendar (built on accounts.access).

Zones scope coordinators, as everywhere (accounts.access.scope_of): a coordinator manages the
staff who work in one of their zones or in a zone inside one (Boyle Heights inside Los
Angeles), and the shifts of those zones; a network-wide coordinator manages the whole
network; one with no zone manages nobody. Anything outside the scope answers 404, as if it
did not exist. Dispatchers see who is on call and the calendar of their zones; every staff
member edits their own availability and languages."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from rapidresponse.accounts.access import CONSOLE_ROLES, AnyUser, access_role, scope_of
from rapidresponse.accounts.models import Role, Staff
from rapidresponse.responders.models import ShiftSchedule
from rapidresponse.zones.models import Zone


def staff_of(user: AnyUser | None) -> Staff:
    """The signed-in staff member (404 for anyone else)."""
    staff = getattr(user, "staff", None) if user is not None and user.is_authenticated \
        else None
    if staff is None or not user.is_active:  # type: ignore[union-attr]
        raise Http404
    return staff


def zones_of(staff: Staff) -> list[Zone] | None:
    """The zones a staff member works in and every zone inside them; None: all of them
    (network-wide)."""
    scope = scope_of(staff.user)
    if scope.network_wide:
        return None
    return list(Zone.objects.filter(pk__in=scope.zone_ids).order_by("name"))


def visible_zones(staff: Staff) -> list[Zone]:
    scope = zones_of(staff)
    return scope if scope is not None else list(Zone.objects.order_by("name"))


def managed_staff(coordinator: Staff) -> QuerySet[Staff]:
    """Staff a coordinator manages: in their zones (or everyone, for one without zones)."""
    qs = Staff.objects.filter(user__is_active=True)
    scope = zones_of(coordinator)
    if scope is None:
        return qs
    return qs.filter(zones__in=scope).distinct()


def access_coordinator(user: AnyUser | None) -> Staff:
    access_role(user, (Role.COORDINATOR,))
    return staff_of(user)


def access_shift_viewer(user: AnyUser | None) -> Staff:
    """Coordinators and dispatchers see the calendar and who is on call."""
    access_role(user, CONSOLE_ROLES)
    return staff_of(user)


def access_managed_staff(user: AnyUser | None, staff_id: int) -> Staff:
    coordinator = access_coordinator(user)
    staff = (managed_staff(coordinator).filter(pk=staff_id)
             .select_related("user", "member").first())
    if staff is None:
        raise Http404
    return staff


def schedules_in_scope(staff: Staff) -> QuerySet[ShiftSchedule]:
    scope = zones_of(staff)
    qs = ShiftSchedule.objects.select_related("zone", "primary__user", "backup__user")
    return qs if scope is None else qs.filter(zone__in=scope)


def access_schedule(user: AnyUser | None, schedule_id: int) -> ShiftSchedule:
    coordinator = access_coordinator(user)
    schedule = schedules_in_scope(coordinator).filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404
    return schedule


def zone_in_scope(staff: Staff, zone_id: object) -> Zone | None:
    """The zone with this id if the staff member's scope holds it."""
    try:
        pk = int(str(zone_id))
    except (TypeError, ValueError):
        return None
    return next((z for z in visible_zones(staff) if z.pk == pk), None)


def scope_filter(staff: Staff) -> Q:
    """For querysets of Staff: those this staff member's scope holds."""
    scope = zones_of(staff)
    return Q() if scope is None else Q(zones__in=scope)
