"""Authorisation helpers: every view and API endpoint asks one of these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404

from rapidresponse.accounts.models import Role
from rapidresponse.incidents.models import UNVERIFIED_STATES, Incident

AnyUser = User | AnonymousUser

CONSOLE_ROLES = (Role.COORDINATOR, Role.DISPATCHER)
VERIFY_ROLES = (Role.COORDINATOR, Role.DISPATCHER, Role.VERIFIER)


def role_of(user: AnyUser | None) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    staff = getattr(user, "staff", None)
    return staff.role if staff is not None else None


def is_staff_member(user: AnyUser | None) -> bool:
    return role_of(user) is not None


def has_role(user: AnyUser | None, roles: tuple[str, ...]) -> bool:
    return role_of(user) in roles


def access_role(user: AnyUser | None, roles: tuple[str, ...]) -> None:
    if not has_role(user, roles):
        raise PermissionDenied


def access_console(user: AnyUser | None) -> None:
    access_role(user, CONSOLE_ROLES)


def access_members(user: AnyUser | None) -> None:
    access_role(user, (Role.COORDINATOR,))


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
