"""Who may see and act on which incident (built on accounts.access)."""

from __future__ import annotations

from django.http import Http404

from rapidresponse.accounts.access import (
    CONSOLE_ROLES,
    VERIFY_ROLES,
    AnyUser,
    access_role,
    has_role,
)
from rapidresponse.accounts.models import Role
from rapidresponse.incidents.models import UNVERIFIED_STATES, Incident


def access_incident(user: AnyUser | None, incident_id: int) -> Incident:
    """Dispatchers and coordinators see every incident; verifiers see those being verified."""
    incident = Incident.objects.select_related("zone").filter(pk=incident_id).first()
    if incident is None:
        raise Http404
    if has_role(user, CONSOLE_ROLES):
        return incident
    if has_role(user, (Role.VERIFIER,)) and (
            incident.state in UNVERIFIED_STATES
            or incident.verifications.filter(verifier_id=getattr(user, "pk", None)).exists()):
        return incident
    raise Http404


def access_incident_for_verification(user: AnyUser | None, incident_id: int) -> Incident:
    access_role(user, VERIFY_ROLES)
    return access_incident(user, incident_id)
