"""The evidence panel of an incident's page (registered with incidents.panels)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rapidresponse.accounts.access import CONSOLE_ROLES, has_role
from rapidresponse.accounts.models import Role
from rapidresponse.evidence.access import visible_evidence
from rapidresponse.evidence.inspect import has_ffmpeg
from rapidresponse.incidents.models import Incident
from rapidresponse.incidents.panels import incident_panel


@incident_panel("evidence", "evidence/_panel.html", order=30)
def evidence_panel(request: HttpRequest, incident: Incident) -> dict[str, Any] | None:
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    items = list(visible_evidence(request.user, incident).select_related("uploaded_by"))
    return {"incident": incident, "items": items,
            "unreleased": sum(1 for e in items if e.released_at is None),
            "is_coordinator": has_role(request.user, (Role.COORDINATOR,)),
            "ffmpeg": has_ffmpeg()}
