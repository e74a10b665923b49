"""Who may see and act on which dispatch (built on accounts.access and incidents.access).

- Dispatchers and coordinators: the dispatches of the incidents of their zones (another
  zone's answer 404); they ask for dispatches and witnesses there.
- Anyone asked in a dispatch sees it and answers, checks in and out of it with their own
  login; anyone else: 404, as if it did not exist. A dispatcher of the zone who was not
  asked cannot answer for someone else (403)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from rapidresponse.accounts.access import CONSOLE_ROLES, AnyUser, has_role, scope_of, staff_of
from rapidresponse.dispatch.models import Assignment, AssignmentStatus, Dispatch


def access_dispatch(user: AnyUser | None, dispatch_id: int) -> Dispatch:
    dispatch = (Dispatch.objects.select_related("incident__zone")
                .filter(pk=dispatch_id).first())
    if dispatch is None:
        raise Http404
    if has_role(user, CONSOLE_ROLES) and scope_of(user).covers(dispatch.incident.zone_id):
        return dispatch
    staff = staff_of(user)
    if staff is not None and dispatch.assignments.filter(staff=staff).exists():
        return dispatch
    raise Http404


def access_own_assignment(user: AnyUser | None, dispatch_id: int) -> Assignment:
    """The signed-in person's own assignment in the dispatch."""
    dispatch = access_dispatch(user, dispatch_id)
    staff = staff_of(user)
    assignment = (dispatch.assignments.filter(staff=staff).select_related("staff__user")
                  .first() if staff is not None else None)
    if assignment is None:
        raise PermissionDenied
    return assignment


# Assignments of people who said they go (and then went): they may add evidence to the
# incident even when it lies outside their zones.
GOING = (AssignmentStatus.ACCEPTED, AssignmentStatus.CHECKED_IN, AssignmentStatus.CHECKED_OUT)


def incidents_sent_to(user: AnyUser | None) -> list[int]:
    """The incidents this person was sent to (said YES in a dispatch of)."""
    staff = staff_of(user)
    if staff is None:
        return []
    return list(Assignment.objects.filter(staff=staff, status__in=GOING)
                .values_list("dispatch__incident_id", flat=True).distinct())
