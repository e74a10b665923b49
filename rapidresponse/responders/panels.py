"""Who is on call, beside the dispatcher's queue and on an incident's page (registered with
incidents.panels when this app is ready)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rapidresponse.accounts.access import CONSOLE_ROLES, has_role
from rapidresponse.accounts.models import Role
from rapidresponse.incidents.models import Incident
from rapidresponse.incidents.panels import console_panel, incident_panel
from rapidresponse.responders.access import staff_of, zones_of
from rapidresponse.responders.models import Skill
from rapidresponse.responders.queries import on_call_board, scheduled_skills
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import neighbourhoods


def _rows(zones: list[Zone], skills: list[str]) -> list[dict[str, Any]]:
    board = on_call_board(zones, skills)
    return [{"zone": zone, "skill": Skill(skill).label,
             "people": board[(zone.pk, skill)]}
            for zone in zones for skill in skills]


@console_panel("on-call", "responders/_on_call_panel.html", order=10)
def on_call_console(request: HttpRequest) -> dict[str, Any] | None:
    """Every zone the viewer works in (neighbourhoods when they are not limited), each skill
    the network puts on call."""
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    staff = staff_of(request.user)
    scope = zones_of(staff)
    zones = scope if scope is not None else neighbourhoods()
    skills = scheduled_skills()
    return {"rows": _rows(zones, skills) if skills else [], "zones": zones,
            "is_coordinator": has_role(request.user, (Role.COORDINATOR,))}


@incident_panel("on-call", "responders/_on_call_panel.html", order=10)
def on_call_incident(request: HttpRequest, incident: Incident) -> dict[str, Any] | None:
    """Who is on call for the incident's zone."""
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    skills = scheduled_skills()
    zones = [incident.zone] if incident.zone is not None else []
    return {"rows": _rows(zones, skills) if skills else [], "zones": zones,
            "incident": incident,
            "is_coordinator": has_role(request.user, (Role.COORDINATOR,))}
