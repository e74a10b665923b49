"""Members have no passwords: they ask for a one-time code by giving their phone or email (the
answer is the same whether or not they are on the list, as on /leave/); the code comes
through the outbox; entering it gives them a short-lived signed cookie that holds only their
member id, for the pages under /me/."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapidresponse.channels.push.models import SignInCode
from rapidresponse.delivery import outbox
from rapidresponse.lib import crypto, ratelimit
from rapidresponse.members.contacts import find_contacts
from rapidresponse.members.models import ContactPoint, Member, language_codes

COOKIE = "rr_member"
COOKIE_SALT = "rapidresponse.members.selfservice"
COOKIE_PATH = "/me/"
SESSION_AGE = timedelta(hours=1)
CODE_TTL = timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5
CODES_PER_CONTACT_PER_HOUR = 5


def _code_bodies(code: str) -> dict[str, dict[str, str]]:
    minutes = int(CODE_TTL.total_seconds() // 60)
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            bodies[lang] = {
                "subject": _("Your code"),
                # Short: an SMS in Spanish is sent as UCS-2, 67 characters a segment.
                "text": _("%(network)s: your code for your alert settings is %(code)s "
                          "(valid %(minutes)s min). If you did not ask for it, ignore this.")
                % {"network": settings.NETWORK_NAME, "code": code, "minutes": minutes}}
    return bodies


def _usable_contact(kind: str, raw: str) -> ContactPoint | None:
    """The confirmed contact point of an active member, or None. Raises ValidationError.
    A phone number is the member's SMS contact or, failing that, their Signal contact."""
    return next((c for c in find_contacts(kind, raw)
                 if c.member.status == Member.Status.ACTIVE and c.verified_at is not None
                 and c.disabled_at is None and c.value_encrypted), None)


@transaction.atomic
def do_start_sign_in(kind: str, raw: str) -> SignInCode | None:
    """Send a sign-in code to a member's phone or email. None when there is no such member
    (the caller answers the same either way). Raises ValidationError for a bad value."""
    contact = _usable_contact(kind, raw)
    if contact is None:
        return None
    if not ratelimit.hit("signin-contact", contact.blind_index, CODES_PER_CONTACT_PER_HOUR,
                         3600):
        return None  # no flood of codes to one phone; the page still says the same
    now = timezone.now()
    SignInCode.objects.filter(member=contact.member, used_at__isnull=True).delete()
    SignInCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = SignInCode.objects.create(member=contact.member, contact=contact,
                                       code_hash=crypto.token_hash(code),
                                       expires_at=now + CODE_TTL)
    outbox.send_to_member(contact.member, "confirmation", _code_bodies(code),
                          channels=[contact.kind])
    return record


@transaction.atomic
def do_check_sign_in(kind: str, raw: str, code: str) -> Member | None:
    """The member whose code this is, once; None for a wrong, used or expired code."""
    try:
        contact = _usable_contact(kind, raw)
    except ValidationError:
        return None
    if contact is None:
        return None
    record = (SignInCode.objects.select_for_update()
              .filter(contact=contact, used_at__isnull=True).order_by("-created_at").first())
    now = timezone.now()
    if record is None or record.expires_at < now or record.attempts >= CODE_MAX_ATTEMPTS:
        return None
    if not secrets.compare_digest(record.code_hash, crypto.token_hash(code.strip())):
        SignInCode.objects.filter(pk=record.pk).update(attempts=record.attempts + 1)
        return None
    record.used_at = now
    record.save(update_fields=["used_at"])
    return contact.member


def signed_in_member(request: HttpRequest) -> Member | None:
    """The member whose signed cookie this request carries, if still valid and active."""
    raw = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT,
                                    max_age=SESSION_AGE)
    if not raw or not str(raw).isdigit():
        return None
    return Member.objects.filter(pk=int(raw), status=Member.Status.ACTIVE).first()


def sign_in(response: HttpResponse, member: Member) -> HttpResponse:
    response.set_signed_cookie(COOKIE, str(member.pk), salt=COOKIE_SALT,
                               max_age=int(SESSION_AGE.total_seconds()), path=COOKIE_PATH,
                               secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                               samesite="Lax")
    return response


def sign_out(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Lax")
    return response
