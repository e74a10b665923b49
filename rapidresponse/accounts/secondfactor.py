"""Staff's second factor: an authenticator app (TOTP, django-otp's totp plugin) and a set of
single-use recovery codes (its static plugin). Reads and formatting here; the writes are the
`do_*` functions in actions.py.

A code of six digits is checked against the authenticator, anything else against the
recovery codes, so a wrong code only ever slows down (django-otp's per-device throttle) the
kind of code it was.
"""

from __future__ import annotations

import binascii
import re
import secrets
import time
from base64 import b32decode, b32encode

import segno
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

AUTHENTICATOR = "authenticator"
RECOVERY = "recovery codes"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a recovery code is read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
# RFC 4226 asks for a shared secret of at least 128 bits; django-otp keeps up to 40 bytes.
MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 40

AnyUser = AbstractBaseUser | AnonymousUser


def is_verified(user: AnyUser | None) -> bool:
    """Signed in with both factors in this session (django-otp's OTPMiddleware marks the
    user of each request)."""
    check = getattr(user, "is_verified", None)
    return bool(user is not None and user.is_authenticated and callable(check) and check())


def authenticator(user: AnyUser) -> TOTPDevice | None:
    """The staff member's confirmed authenticator app, if any."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def pending_authenticator(user: AnyUser) -> TOTPDevice | None:
    """An authenticator being set up (shown, not yet confirmed with a code)."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def has_second_factor(user: AnyUser) -> bool:
    return authenticator(user) is not None


def recovery_codes_left(user: AnyUser) -> int:
    if not user.is_authenticated:
        return 0
    return sum(d.token_set.count() for d in StaticDevice.objects.filter(user=user,
                                                                       confirmed=True))


def normalise_code(raw: str) -> str:
    """What people type: `123 456`, `ABCDE-FGHJK`."""
    return re.sub(r"[\s\-]", "", raw or "").lower()


def is_totp_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def new_recovery_code() -> str:
    return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))


def show_recovery_code(code: str) -> str:
    """As printed for people: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in."""
    return b32encode(device.bin_key).decode().rstrip("=")


def secret_for_people(device: TOTPDevice) -> str:
    """The secret in groups of four, easier to type on a phone."""
    text = secret_base32(device)
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def parse_secret(text: str) -> bytes:
    """A base32 secret as an authenticator app shows it (any case, spaces, no padding).
    ValueError with a reason when it is not one or too short."""
    cleaned = re.sub(r"[\s\-]", "", text or "").upper().rstrip("=")
    if not cleaned or not re.fullmatch(r"[A-Z2-7]+", cleaned):
        raise ValueError("the TOTP secret must be base32 (letters A-Z and digits 2-7)")
    try:
        key = b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error as exc:
        raise ValueError("the TOTP secret is not valid base32") from exc
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the TOTP secret must be at least {MIN_SECRET_BYTES * 8} bits "
                         f"({(MIN_SECRET_BYTES * 8 + 4) // 5} base32 characters)")
    if len(key) > MAX_SECRET_BYTES:
        raise ValueError(f"the TOTP secret must be at most {MAX_SECRET_BYTES * 8} bits")
    return key


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// link as an inline SVG QR code, made here (no third party sees it)."""
    return str(segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", omitsize=True))


def current_code(device: TOTPDevice, at: float | None = None) -> str:
    """The code the authenticator app shows now (or at the Unix time `at`)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"
