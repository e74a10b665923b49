"""Writes about staff accounts: provisioning, the second factor and its recovery codes."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from rapidresponse.accounts import audit, secondfactor
from rapidresponse.accounts.models import Role, Staff
from rapidresponse.zones.models import Zone


@transaction.atomic
def do_start_second_factor(user: User) -> TOTPDevice:
    """The authenticator being set up: the one already shown, or a new secret."""
    device = secondfactor.pending_authenticator(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=secondfactor.AUTHENTICATOR,
                                           confirmed=False)
    return device


@dataclass(frozen=True)
class Confirmation:
    """Setting up an authenticator: the new recovery codes when the code was right, else
    how long to wait before the next code is checked (0: it was just wrong)."""

    recovery_codes: list[str] | None = None
    wait_seconds: int = 0


@transaction.atomic
def do_confirm_second_factor(user: User, code: str) -> Confirmation:
    """Confirm the authenticator being set up with a code it shows. It replaces any earlier
    one, and comes with new recovery codes, returned here (the only time they are seen in
    clear)."""
    device = (TOTPDevice.objects.select_for_update()
              .filter(user=user, confirmed=False).order_by("-id").first())
    code = secondfactor.normalise_code(code)
    if device is None or not secondfactor.is_totp_code(code):
        return Confirmation()
    wait = _wait_seconds(device)
    if wait:
        return Confirmation(wait_seconds=wait)
    if not device.verify_token(code):
        return Confirmation()
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _replace_recovery_codes(user)
    audit.record(user, "staff.second_factor", _staff_or_user(user))
    return Confirmation(recovery_codes=codes)


def _wait_seconds(device: TOTPDevice | StaticDevice) -> int:
    """0 when the device checks a code now, else the seconds until it will."""
    allowed, why = device.verify_is_allowed()
    if allowed:
        return 0
    until = (why or {}).get("locked_until")
    return max(1, math.ceil((until - timezone.now()).total_seconds())) if until else 1


@transaction.atomic
def do_new_recovery_codes(user: User) -> list[str]:
    """New recovery codes; the old ones stop working."""
    codes = _replace_recovery_codes(user)
    audit.record(user, "staff.recovery_codes", _staff_or_user(user))
    return codes


@dataclass(frozen=True)
class CodeCheck:
    """What a code was worth: the device that accepted it, or how long to wait before one
    of this kind is checked again (django-otp slows down each device after wrong codes:
    1, 2, 4, 8 ... seconds)."""

    device: Device | None = None
    wait_seconds: int = 0


@transaction.atomic
def do_verify_second_factor(user: AbstractBaseUser, code: str) -> CodeCheck:
    """Check a code: six digits against the authenticator, anything else against the
    recovery codes (a recovery code that works is used up)."""
    code = secondfactor.normalise_code(code)
    if not code:
        return CodeCheck()
    devices: list[TOTPDevice] | list[StaticDevice]
    if secondfactor.is_totp_code(code):
        devices = list(TOTPDevice.objects.select_for_update()
                       .filter(user=user, confirmed=True))
    else:
        devices = list(StaticDevice.objects.select_for_update()
                       .filter(user=user, confirmed=True))
    wait = 0
    for device in devices:
        device_wait = _wait_seconds(device)
        if device_wait:
            wait = max(wait, device_wait)
            continue
        if device.verify_token(code):
            return CodeCheck(device=device)
    return CodeCheck(wait_seconds=wait)


def _replace_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=secondfactor.RECOVERY, confirmed=True)
    codes: list[str] = []
    while len(codes) < secondfactor.RECOVERY_CODE_COUNT:
        code = secondfactor.new_recovery_code()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def _staff_or_user(user: User) -> Staff | User:
    return Staff.objects.filter(user=user).first() or user


@dataclass
class StaffInput:
    username: str
    role: str
    password: str
    on_call: bool = False
    totp_secret: bytes | None = None
    # None: leave the zones as they are.
    zones: list[Zone] | None = None
    # Works in every zone and outside them (None: leave as it is).
    network_wide: bool | None = None


@transaction.atomic
def do_provision_staff(data: StaffInput) -> tuple[Staff, bool]:
    """Create or update a staff login without prompts (create_staff, the demo). With a TOTP
    secret the authenticator is created confirmed, replacing any other, so the person signs
    in with a code from an app that was given the same secret."""
    if data.role not in Role.values:
        raise ValueError(f"unknown role {data.role!r}")
    user, created = get_user_model().objects.get_or_create(username=data.username)
    user.set_password(data.password)
    user.is_superuser = False
    user.save()
    defaults: dict[str, object] = {"role": data.role, "on_call": data.on_call}
    if data.network_wide is not None:
        defaults["network_wide"] = data.network_wide
    staff, _ = Staff.objects.update_or_create(user=user, defaults=defaults)
    if data.zones is not None:
        staff.zones.set(data.zones)
    # The admin site (embedded only) sees every row of every zone: network-wide
    # coordinators only.
    user.is_staff = staff.role == Role.COORDINATOR and staff.network_wide
    user.save(update_fields=["is_staff"])
    if data.totp_secret is not None:
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(user=user, name=secondfactor.AUTHENTICATOR, confirmed=True,
                                  key=data.totp_secret.hex())
    return staff, created
