"""Issuing and checking one-time codes: one system for every purpose.

    do_issue_code(PURPOSE, Destination.contact_point(contact), payload={...}) -> OneTimeCode
        a new code for the purpose, sent through the outbox; its `public_id` is what a page
        shows (/code/<public_id>/). Earlier codes of the purpose to the same destination (or
        member) stop working. Over CODES_PER_DESTINATION_PER_HOUR, over the network's
        CODE_SMS_PER_HOUR (`budget_spent`), or to a phone outside PHONE_COUNTRIES, the code
        is recorded but not sent, and earlier ones keep working: the caller's page answers
        the same, so none of these tells a visitor anything.
    do_check_code(public_id, code, purposes=(...)) -> Checked | None
    do_check_latest_code(PURPOSE, Destination.typed(kind, raw), code) -> Checked | None
        for pages where someone types their phone or email again instead of carrying an id.

A code works once, for MAX attempts, until it expires; a wrong, used, expired, replaced or
unknown code all answer None, so a caller cannot tell them apart (and neither can a visitor).
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rapidresponse.codes.destinations import Destination
from rapidresponse.codes.messages import Purpose, code_bodies
from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Kind
from rapidresponse.lib import crypto
from rapidresponse.members.contacts import PHONE_KINDS, phone_allowed
from rapidresponse.members.models import Channel, ContactPoint, Member

log = logging.getLogger(__name__)

CODES_PER_DESTINATION_PER_HOUR = 5
CODE_DIGITS = 6


@dataclass(frozen=True)
class Checked:
    """A code that was right: what it was issued for."""

    purpose: str
    member: Member | None
    contact: ContactPoint | None
    payload: dict[str, Any] = field(default_factory=dict)


def _hash(public_id: str, code: str) -> str:
    # Keyed: six digits hashed without a key are found by trying all of them.
    return crypto.blind_index("one-time-code", f"{public_id}:{code}")


def _new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def sent_recently(index: str) -> int:
    """How many codes went to this destination in the last hour, whatever their purpose."""
    return OneTimeCode.objects.filter(
        destination_index=index, throttled=False,
        created_at__gte=timezone.now() - timedelta(hours=1)).count()


def code_sms_last_hour() -> int:
    """Code SMS the whole network sent in the last hour."""
    return OneTimeCode.objects.filter(
        channel=Channel.SMS, throttled=False,
        created_at__gte=timezone.now() - timedelta(hours=1)).count()


def budget_spent() -> bool:
    """Whether the hourly budget of code SMS (CODE_SMS_PER_HOUR) is used up: then codes are
    recorded but not sent by SMS, and the console says so."""
    return code_sms_last_hour() >= settings.CODE_SMS_PER_HOUR


def _why_not_sent(to: Destination, contact: ContactPoint) -> str:
    """Why this code is not sent ("" when it is)."""
    if sent_recently(to.index) >= CODES_PER_DESTINATION_PER_HOUR:
        return "destination"
    if contact.kind in PHONE_KINDS and not phone_allowed(contact.value):
        return "country"
    if contact.kind == Channel.SMS and budget_spent():
        return "budget"
    return ""


@transaction.atomic
def do_issue_code(purpose: Purpose, to: Destination, *,
                  payload: dict[str, Any] | None = None) -> OneTimeCode:
    """A new code for `purpose`, sent to `to` through the outbox (see the module's notes)."""
    contact = to.contact
    if contact is None:
        # The outbox delivers to members' contact points only (README, "One-time codes").
        raise ValueError("a code is sent to a member's contact point")
    now = timezone.now()
    public_id = secrets.token_urlsafe(16)
    code = _new_code()
    record = OneTimeCode(
        public_id=public_id, purpose=purpose.name, channel=to.channel,
        destination_index=to.index, member=contact.member, contact=contact,
        code_hash=_hash(public_id, code), created_at=now, expires_at=now + purpose.ttl,
        payload_encrypted=crypto.encrypt(json.dumps(payload)) if payload else "",
    )
    why_not = _why_not_sent(to, contact)
    record.throttled = bool(why_not)
    if why_not:
        # No number, no purpose that names a person: a line an operator can act on.
        log.warning("one-time code not sent (%s): %s", why_not,
                    {"destination": "over its hourly limit",
                     "country": "a phone outside PHONE_COUNTRIES",
                     "budget": f"the network's CODE_SMS_PER_HOUR ({settings.CODE_SMS_PER_HOUR}) "
                               "is spent"}[why_not])
    else:
        # The newest code is the one that works: an earlier one not yet sent is not sent.
        (OneTimeCode.objects
         .filter(Q(destination_index=to.index) | Q(member=contact.member),
                 purpose=purpose.name, used_at__isnull=True)
         .update(used_at=now, secret_encrypted="", payload_encrypted=""))
        record.secret_encrypted = crypto.encrypt(code)
        record.message = outbox.send_to_member(contact.member, Kind.CONFIRMATION,
                                               code_bodies(purpose), channels=[contact.kind])
    record.save()
    return record


def live_code(public_id: str, purposes: Iterable[Purpose]) -> OneTimeCode | None:
    """The code with this public id, for one of these purposes, if it was not used or
    replaced (an expired one is still found: entering it says it has expired)."""
    return (OneTimeCode.objects.select_related("contact")
            .filter(public_id=public_id, purpose__in=[p.name for p in purposes],
                    used_at__isnull=True).first())


@transaction.atomic
def do_check_code(public_id: str, code: str, *, purposes: Iterable[Purpose]
                  ) -> Checked | None:
    """Use the code with this public id, if `code` is right and it is for one of these
    purposes. None otherwise (a wrong try counts towards the code's limit)."""
    by_name = {p.name: p for p in purposes}
    record = (OneTimeCode.objects.select_for_update()
              .filter(public_id=public_id, purpose__in=list(by_name)).first())
    if record is None:
        return None
    return _use(record, by_name[record.purpose], code)


@transaction.atomic
def do_check_latest_code(purpose: Purpose, to: Destination, code: str) -> Checked | None:
    """Use the newest code sent for `purpose` to this phone or email, if `code` is right."""
    record = (OneTimeCode.objects.select_for_update()
              .filter(purpose=purpose.name, destination_index=to.index, throttled=False,
                      used_at__isnull=True)
              .order_by("-created_at", "-id").first())
    if record is None:
        return None
    return _use(record, purpose, code)


def _use(record: OneTimeCode, purpose: Purpose, code: str) -> Checked | None:
    now = timezone.now()
    if (record.used_at is not None or record.throttled or record.expires_at <= now
            or record.attempts >= purpose.max_attempts):
        return None
    if not hmac.compare_digest(record.code_hash, _hash(record.public_id, code.strip())):
        OneTimeCode.objects.filter(pk=record.pk).update(attempts=F("attempts") + 1)
        return None
    payload = (json.loads(crypto.decrypt(record.payload_encrypted))
               if record.payload_encrypted else {})
    OneTimeCode.objects.filter(pk=record.pk).update(
        used_at=now, secret_encrypted="", payload_encrypted="")
    return Checked(purpose=record.purpose, member=record.member, contact=record.contact,
                   payload=payload)
