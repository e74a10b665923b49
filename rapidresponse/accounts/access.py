"""Authorisation helpers: every view and API endpoint asks one of these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied

from rapidresponse.accounts.models import Role

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
