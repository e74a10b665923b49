"""Who may see and act on which incident (built on accounts.access: read its docstring).

An incident is in a staff member's scope when its zone is (an incident outside every zone:
network-wide staff only). Its reports, verification requests, findings and alerts go with
it. Outside the scope it answers 404.

- Dispatchers and coordinators: the incidents of their zones, in every state.
- Verifiers: the incidents of their zones that wait for verification, every incident they
  were asked to verify while it waits (the request may reach beyond their zones), and the
  incidents they gave a finding on.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from rapidresponse.accounts.access import (
    CONSOLE_ROLES,
    VERIFY_ROLES,
    AnyUser,
    access_role,
    has_role,
    scope_of,
)
from rapidresponse.accounts.models import Role
from rapidresponse.incidents.models import (
    UNVERIFIED_STATES,
    Incident,
    Verification,
    VerificationRequest,
)


def incidents_in_scope(user: AnyUser | None,
                       incidents: QuerySet[Incident] | None = None) -> QuerySet[Incident]:
    """The incidents of the staff member's zones (all of them for network-wide staff)."""
    qs = incidents if incidents is not None else Incident.objects.all()
    return qs.filter(scope_of(user).zone_q("zone"))


def asked_of(user: AnyUser | None) -> QuerySet[VerificationRequest]:
    """The verification requests sent to this person."""
    if user is None or not user.is_authenticated:
        return VerificationRequest.objects.none()
    return VerificationRequest.objects.filter(verifier__user_id=user.pk)


def incidents_to_verify(user: AnyUser | None) -> QuerySet[Incident]:
    """Incidents waiting for verification that this person may verify: those of their
    zones, and those they were asked to verify."""
    reach = scope_of(user).zone_q("zone")
    if has_role(user, (Role.VERIFIER,)):
        reach |= Q(pk__in=asked_of(user).values("incident_id"))
    return Incident.objects.filter(state__in=UNVERIFIED_STATES).filter(reach)


def access_incident(user: AnyUser | None, incident_id: int) -> Incident:
    """The incident if this staff member may see it (see the module docstring), else 404."""
    incident = Incident.objects.select_related("zone").filter(pk=incident_id).first()
    if incident is None:
        raise Http404
    if has_role(user, CONSOLE_ROLES) and scope_of(user).covers(incident.zone_id):
        return incident
    if has_role(user, (Role.VERIFIER,)):
        waiting = incident.state in UNVERIFIED_STATES
        if waiting and (scope_of(user).covers(incident.zone_id)
                        or asked_of(user).filter(incident=incident).exists()):
            return incident
        if Verification.objects.filter(incident=incident,
                                       verifier_id=getattr(user, "pk", None)).exists():
            return incident
    raise Http404


def access_incident_for_verification(user: AnyUser | None, incident_id: int) -> Incident:
    access_role(user, VERIFY_ROLES)
    return access_incident(user, incident_id)
