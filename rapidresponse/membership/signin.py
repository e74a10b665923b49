"""Members have no passwords: they ask for a one-time code by giving their phone or email (the
answer is the same whether or not they are on the list, as on /leave/); the code comes
through the outbox; entering it gives them a short-lived signed cookie that holds only their
member id, for the pages under /me/."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from rapidresponse.codes.actions import do_check_latest_code, do_issue_code
from rapidresponse.codes.destinations import Destination
from rapidresponse.codes.messages import Purpose
from rapidresponse.codes.models import OneTimeCode
from rapidresponse.members.contacts import find_contacts
from rapidresponse.members.models import ContactPoint, Member

COOKIE = "rr_member"
COOKIE_SALT = "rapidresponse.members.selfservice"
COOKIE_PATH = "/me/"
SESSION_AGE = timedelta(hours=1)
# Short: an SMS in Spanish is sent as UCS-2, 67 characters a segment.
SIGN_IN = Purpose("sign_in", gettext_lazy(
    "%(network)s: your code for your alert settings is %(code)s (valid %(minutes)s min). "
    "If you did not ask for it, ignore this."))


def _usable_contact(kind: str, raw: str) -> ContactPoint | None:
    """The confirmed contact point of an active member, or None. Raises ValidationError.
    A phone number is the member's SMS contact or, failing that, their Signal contact."""
    return next((c for c in find_contacts(kind, raw)
                 if c.member.status == Member.Status.ACTIVE and c.verified_at is not None
                 and c.disabled_at is None and c.value_encrypted), None)


@transaction.atomic
def do_start_sign_in(kind: str, raw: str) -> OneTimeCode | None:
    """Send a sign-in code to a member's phone or email. None when there is no such member
    (the caller answers the same either way). Raises ValidationError for a bad value. No
    more than codes.actions.CODES_PER_DESTINATION_PER_HOUR codes go to one phone or email."""
    contact = _usable_contact(kind, raw)
    if contact is None:
        return None
    return do_issue_code(SIGN_IN, Destination.contact_point(contact))


@transaction.atomic
def do_check_sign_in(kind: str, raw: str, code: str) -> Member | None:
    """The member whose code this is, once; None for a wrong, used or expired code."""
    try:
        contact = _usable_contact(kind, raw)
    except ValidationError:
        return None
    if contact is None:
        return None
    checked = do_check_latest_code(SIGN_IN, Destination.contact_point(contact), code)
    if checked is None or checked.member != contact.member:
        return None
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
