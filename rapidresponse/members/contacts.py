"""Normalising and finding contact points (phones as E.164, emails lower-cased).

A phone number can be two contact points: SMS and Signal both reach a phone number, each
stored encrypted with its own blind index (the kind is part of the index)."""

from __future__ import annotations

import operator
from functools import reduce

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils.translation import gettext as _

from rapidresponse.lib import crypto
from rapidresponse.members.models import Channel, ContactPoint

DEFAULT_REGION = "US"
#: Contact kinds whose value is a phone number, in the order a typed number is looked up.
PHONE_KINDS: tuple[str, ...] = (Channel.SMS, Channel.SIGNAL)
#: The channels a member chooses when joining, in an import or through the API (web push
#: is turned on from a browser, on the member's settings page).
CHOOSABLE_CHANNELS: tuple[str, ...] = (Channel.SMS, Channel.SIGNAL, Channel.EMAIL)


def normalise_phone(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw.strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This phone number is not valid."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_allowed(normalised: str) -> bool:
    """Whether a number (E.164) belongs to one of PHONE_COUNTRIES: the only numbers the
    network sends to or keeps as contacts (a number anywhere else may be a premium-rate line
    an attacker is paid for: SMS pumping)."""
    try:
        number = phonenumbers.parse(normalised, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) in settings.PHONE_COUNTRIES


def check_phone_country(normalised: str) -> str:
    """The number, if the network may use it (phone_allowed); else ValidationError with a
    message for the person who typed it."""
    if not phone_allowed(normalised):
        raise ValidationError(_("We cannot send messages to phone numbers in that country. "
                                "Give a number from %(countries)s, or an email address.")
                              % {"countries": ", ".join(settings.PHONE_COUNTRIES)})
    return normalised


def normalise_email(raw: str) -> str:
    value = raw.strip()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(_("This email address is not valid.")) from exc
    local, _sep, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def kind_of(raw: str) -> str:
    """What someone typed into a "phone or email" field: an email if it has an @."""
    return Channel.EMAIL if "@" in raw else Channel.SMS


def same_number(kind: str) -> tuple[str, ...]:
    """The kinds that share a value with this kind: both phone kinds for a phone."""
    return PHONE_KINDS if kind in PHONE_KINDS else (kind,)


def normalise(kind: str, raw: str) -> str:
    """A phone or email as stored and sent to; a phone number must be of PHONE_COUNTRIES
    (inbound texts use normalise_phone, which takes any country)."""
    if kind in PHONE_KINDS:
        return check_phone_country(normalise_phone(raw))
    if kind == Channel.EMAIL:
        return normalise_email(raw)
    raise ValidationError(_("Unknown channel."))


def _comparable(kind: str, normalised: str) -> str:
    return normalised.lower() if kind == Channel.EMAIL else normalised


def index_for(kind: str, normalised: str) -> str:
    return crypto.blind_index(kind, _comparable(kind, normalised))


def reporter_index_for(kind: str, normalised: str) -> str:
    """The same phone or email as a reporter or hotline caller: under a key of its own."""
    return crypto.reporter_index(kind, _comparable(kind, normalised))


def find_contact(kind: str, raw: str) -> ContactPoint | None:
    """The contact point for a raw phone or email, or None. Raises ValidationError."""
    value = normalise(kind, raw)
    return (ContactPoint.objects.select_related("member")
            .filter(kind=kind, blind_index=index_for(kind, value)).first())


def find_contacts(kind: str, raw: str) -> list[ContactPoint]:
    """Every contact point for a typed phone or email, whatever its member: for a phone, its
    SMS contact and then its Signal contact. Raises ValidationError."""
    value = normalise(kind, raw)
    found = {c.kind: c for c in ContactPoint.objects.select_related("member").filter(
        q_for(same_number(kind), value))}
    return [found[k] for k in same_number(kind) if k in found]


def q_for(kinds: tuple[str, ...], normalised: str) -> Q:
    """Contact points of these kinds holding this (normalised) value."""
    return reduce(operator.or_, [Q(kind=kind, blind_index=index_for(kind, normalised))
                                 for kind in kinds])
