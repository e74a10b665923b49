"""Normalising and finding contact points (phones as E.164, emails lower-cased)."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from rapidresponse.lib import crypto
from rapidresponse.members.models import Channel, ContactPoint

DEFAULT_REGION = "US"


def normalise_phone(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw.strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This phone number is not valid."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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


def normalise(kind: str, raw: str) -> str:
    if kind == Channel.SMS:
        return normalise_phone(raw)
    if kind == Channel.EMAIL:
        return normalise_email(raw)
    raise ValidationError(_("Unknown channel."))


def index_for(kind: str, normalised: str) -> str:
    return crypto.blind_index(kind, normalised.lower() if kind == Channel.EMAIL else normalised)


def find_contact(kind: str, raw: str) -> ContactPoint | None:
    """The contact point for a raw phone or email, or None. Raises ValidationError."""
    value = normalise(kind, raw)
    return (ContactPoint.objects.select_related("member")
            .filter(kind=kind, blind_index=index_for(kind, value)).first())
