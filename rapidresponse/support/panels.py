"""The incident page's family-support panel (registered with incidents.panels): the
detentions recorded at the incident, a form to record one and, for each, a form to open a
support case with the family's consent."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rapidresponse.accounts.access import CONSOLE_ROLES, has_role, staff_of
from rapidresponse.incidents.models import Incident
from rapidresponse.incidents.panels import incident_panel
from rapidresponse.responders.models import SPOKEN_LANGUAGES
from rapidresponse.support.access import may_see_case
from rapidresponse.support.models import Detention, Need, SupportCase
from rapidresponse.support.queries import decrypt_or_blank


def detention_rows(request: HttpRequest, incident: Incident) -> list[dict[str, Any]]:
    staff = staff_of(request.user)
    rows = []
    for d in Detention.objects.filter(incident=incident).select_related("case"):
        case: SupportCase | None = getattr(d, "case", None)
        rows.append({"detention": d, "notes": decrypt_or_blank(d.notes_encrypted),
                     "case": case,
                     "case_visible": case is not None and may_see_case(staff, case)})
    return rows


def form_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    return {"incident": incident, "detentions": detention_rows(request, incident),
            "needs": list(Need), "spoken": SPOKEN_LANGUAGES}


@incident_panel("family-support", "support/_detention_panel.html", order=60)
def family_support(request: HttpRequest, incident: Incident) -> dict[str, Any] | None:
    """Dispatchers and coordinators of the incident's zone (whoever sees its page)."""
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    return form_context(request, incident)
