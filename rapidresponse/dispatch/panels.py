"""The dispatch panel of an incident's page (registered with incidents.panels) and "Your
dispatches" on a responder's own page (registered with responders.sections)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Q, Value, When
from django.http import HttpRequest

from rapidresponse.accounts.access import CONSOLE_ROLES, has_role
from rapidresponse.accounts.models import Staff
from rapidresponse.dispatch import actions, witnesses
from rapidresponse.dispatch.models import Assignment, AssignmentStatus, Dispatch
from rapidresponse.incidents.access import incidents_in_scope
from rapidresponse.incidents.models import OPEN_STATES, Incident, State
from rapidresponse.incidents.panels import console_panel, incident_panel
from rapidresponse.responders.models import Skill
from rapidresponse.responders.sections import phone_section

#: Dispatches shown on the console: every one still asking, filled or with nobody left.
CONSOLE_LIMIT = 30


@console_panel("dispatches", "dispatch/_console_panel.html", order=12)
def console_dispatches(request: HttpRequest) -> dict[str, Any] | None:
    """Beside the queue: each dispatch not closed of the viewer's zones, with how many are
    going and how many are there; those with nobody left first."""
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    live = (Dispatch.objects.exclude(status=Dispatch.Status.CLOSED)
            .filter(incident__in=incidents_in_scope(request.user))
            .select_related("incident__zone")
            .annotate(going=Count("assignments", filter=Q(assignments__status__in=actions.GOING)),
                      there=Count("assignments",
                                  filter=Q(assignments__status=AssignmentStatus.CHECKED_IN)))
            .order_by(Case(When(status=Dispatch.Status.EXHAUSTED, then=Value(0)),
                           When(status=Dispatch.Status.OPEN, then=Value(1)), default=Value(2)),
                      "created_at", "id"))
    return {"dispatches": list(live[:CONSOLE_LIMIT])}


@incident_panel("dispatch", "dispatch/_incident_panel.html", order=20)
def incident_dispatches(request: HttpRequest, incident: Incident) -> dict[str, Any] | None:
    """Who was asked, who is going, who checked in; a form to ask for N of a skill; the
    witnesses asked and coming (confirmed incidents)."""
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    dispatches = list(Dispatch.objects.filter(incident=incident)
                      .prefetch_related("assignments__staff__user"))
    for dispatch in dispatches:
        dispatch.going = sum(1 for a in dispatch.assignments.all()  # type: ignore[attr-defined]
                             if a.status in actions.GOING)
    return {
        "incident": incident, "dispatches": dispatches,
        "skills": [(s, Skill(s).label) for s in actions.DISPATCH_SKILLS],
        "max_count": actions.MAX_COUNT,
        "can_dispatch": incident.state in OPEN_STATES,
        "can_call_witnesses": incident.state == State.CONFIRMED,
        "witness_requests": list(incident.witness_requests.all()),
        "witnesses_coming": witnesses.coming_count(incident),
        "witness_max_radius": settings.WITNESS_MAX_RADIUS_M,
        "witness_max_cap": settings.WITNESS_MAX_CAP,
    }


#: Assignments shown on the responder's page: those still to act on, and the last few done.
SHOWN_DONE = 5


@phone_section("dispatches", "dispatch/_responder_section.html", order=10)
def my_dispatches(request: HttpRequest, staff: Staff) -> dict[str, Any] | None:
    mine = (Assignment.objects.filter(staff=staff)
            .select_related("dispatch__incident__zone").order_by("-asked_at", "-id"))
    live = (AssignmentStatus.ASKED, AssignmentStatus.ACCEPTED, AssignmentStatus.CHECKED_IN)
    open_ones = [a for a in mine.filter(status__in=live)
                 if a.dispatch.status != Dispatch.Status.CLOSED
                 or a.status == AssignmentStatus.CHECKED_IN]
    done = list(mine.exclude(pk__in=[a.pk for a in open_ones])[:SHOWN_DONE])
    return {"open": open_ones, "done": done}
