"""Who may add to, see and export which evidence (built on incidents.access and the zones of
accounts.access; out of scope answers 404).

- **Upload**: responders to the incidents of their zones and to those they were sent to (a
  dispatch they said YES to, wherever it is); dispatchers and coordinators to the incidents
  they may open (their zones). Verifiers do not upload here (403).
- **Shared copy** (metadata removed): dispatchers and coordinators of the incident's zone,
  and the person who uploaded it.
- **Originals and the attorney's package**: dispatchers and coordinators of the zone.
- **Release to the attorney**: coordinators of the zone.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from rapidresponse.accounts.access import CONSOLE_ROLES, AnyUser, access_role, has_role, scope_of
from rapidresponse.accounts.models import Role
from rapidresponse.dispatch.access import incidents_sent_to
from rapidresponse.evidence.models import Evidence
from rapidresponse.incidents.access import access_incident
from rapidresponse.incidents.models import Incident

UPLOAD_ROLES = (Role.COORDINATOR, Role.DISPATCHER, Role.RESPONDER)


def access_incident_for_upload(user: AnyUser | None, incident_id: int) -> Incident:
    access_role(user, UPLOAD_ROLES)
    if has_role(user, CONSOLE_ROLES):
        return access_incident(user, incident_id)
    incident = Incident.objects.select_related("zone").filter(pk=incident_id).first()
    if incident is None or not (scope_of(user).covers(incident.zone_id)
                                or incident.pk in incidents_sent_to(user)):
        raise Http404
    return incident


def incidents_for_upload(user: AnyUser | None) -> QuerySet[Incident]:
    """The incidents this person may add evidence to."""
    if not has_role(user, UPLOAD_ROLES):
        return Incident.objects.none()
    return Incident.objects.filter(scope_of(user).zone_q("zone")
                                   | Q(pk__in=incidents_sent_to(user)))


def access_shared(user: AnyUser | None, evidence_id: int) -> Evidence:
    access_role(user, UPLOAD_ROLES)
    evidence = Evidence.objects.select_related("incident").filter(pk=evidence_id).first()
    if evidence is None:
        raise Http404
    if has_role(user, CONSOLE_ROLES) and scope_of(user).covers(evidence.incident.zone_id):
        return evidence
    if evidence.uploaded_by_id is not None and evidence.uploaded_by_id == getattr(
            user, "pk", None):
        return evidence
    raise Http404


def access_original(user: AnyUser | None, evidence_id: int) -> Evidence:
    access_role(user, CONSOLE_ROLES)
    evidence = Evidence.objects.select_related("incident").filter(pk=evidence_id).first()
    if evidence is None or not scope_of(user).covers(evidence.incident.zone_id):
        raise Http404
    return evidence


def access_package(user: AnyUser | None, incident_id: int) -> Incident:
    access_role(user, CONSOLE_ROLES)
    return access_incident(user, incident_id)


def access_release(user: AnyUser | None, incident_id: int) -> Incident:
    access_role(user, (Role.COORDINATOR,))
    return access_incident(user, incident_id)


def visible_evidence(user: AnyUser | None, incident: Incident) -> QuerySet[Evidence]:
    """The incident's evidence this person may see listed."""
    qs = Evidence.objects.filter(incident=incident)
    if has_role(user, CONSOLE_ROLES) and scope_of(user).covers(incident.zone_id):
        return qs
    return qs.filter(Q(uploaded_by_id=getattr(user, "pk", None)) & Q(uploaded_by__isnull=False))
