"""What staff do about a detention and a support case. Each `do_*` validates its input,
raises InvalidInput with a message for each field, and writes under transaction.atomic.
Audit entries name what changed, never the family's details."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.models import Staff
from rapidresponse.incidents.models import Incident
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.contacts import normalise_phone
from rapidresponse.responders.models import SPOKEN_LANGUAGE_CODES
from rapidresponse.support.models import (
    CaseNote,
    CaseStatus,
    Detention,
    Need,
    NeedState,
    Partner,
    SupportCase,
)
from rapidresponse.support.queries import volunteers_for
from rapidresponse.zones.models import Zone

MAX_PEOPLE = 50
MAX_NOTES = 2000
NEEDS = [n.value for n in Need]


def _when(raw: Any, errors: dict[str, str]) -> datetime | None:
    if isinstance(raw, datetime):
        value: datetime | None = raw
    else:
        text = str(raw or "").strip()
        if not text:
            return timezone.now()
        try:
            value = parse_datetime(text)
        except ValueError:
            value = None
    if value is None:
        errors["detained_at"] = _("Enter the date and time as YYYY-MM-DD HH:MM.")
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + timedelta(minutes=5):
        errors["detained_at"] = _("This time is in the future.")
        return None
    return value


def _text(raw: Any, name: str, errors: dict[str, str], *, required: bool = False) -> str:
    text = str(raw or "").strip()
    if required and not text:
        errors[name] = _("Write something first.")
    elif len(text) > MAX_NOTES:
        errors[name] = _("At most %(n)s characters.") % {"n": MAX_NOTES}
    return text


def _phone(raw: Any, errors: dict[str, str]) -> str:
    text = str(raw or "").strip()
    if not text:
        return ""
    try:
        return normalise_phone(text)
    except ValidationError as exc:
        errors["contact"] = str(exc.messages[0])
        return ""


@transaction.atomic
def do_record_detention(incident: Incident, staff: Staff, *, people: Any, detained_at: Any,
                        notes: Any = "") -> Detention:
    """Someone was detained at this incident: how many, when, and optional notes (never a
    name, a status or a nationality: the form says so)."""
    errors: dict[str, str] = {}
    try:
        count = int(str(people).strip())
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= MAX_PEOPLE:
        errors["people"] = _("Enter how many people, from 1 to %(n)s.") % {"n": MAX_PEOPLE}
    when = _when(detained_at, errors)
    text = _text(notes, "notes", errors)
    if errors:
        raise InvalidInput(errors)
    assert when is not None
    detention = Detention.objects.create(
        incident=incident, people=count, detained_at=when, recorded_by=staff,
        notes_encrypted=crypto.encrypt(text) if text else "")
    audit.record(staff.user, "detention.recorded", detention, incident=incident.pk)
    return detention


@transaction.atomic
def do_open_case(detention: Detention, staff: Staff, *, consent: bool, language: Any,
                 needs: Iterable[str], contact: Any = "") -> SupportCase:
    """With the family's consent, a support case for this detention."""
    errors: dict[str, str] = {}
    if not consent:
        errors["consent"] = _("A support case opens only with the family's consent: ask "
                              "them, then tick the box.")
    if SupportCase.objects.filter(detention=detention).exists():
        errors["consent"] = _("This detention already has a support case.")
    lang = str(language or "").strip()
    if lang not in SPOKEN_LANGUAGE_CODES:
        errors["language"] = _("Choose the family's language.")
    chosen = [n for n in NEEDS if n in set(needs)]
    phone = _phone(contact, errors)
    if errors:
        raise InvalidInput(errors)
    case = SupportCase.objects.create(
        detention=detention, zone=detention.incident.zone, language=lang, consent_by=staff,
        consent_at=timezone.now(), needs={n: NeedState.OPEN.value for n in chosen},
        contact_encrypted=crypto.encrypt(phone) if phone else "")
    audit.record(staff.user, "support.opened", case, incident=detention.incident_id)
    return case


@transaction.atomic
def do_set_needs(case: SupportCase, staff: Staff, states: Mapping[str, str]) -> SupportCase:
    """Each need: "" (does not apply), "open" or "met"."""
    needs: dict[str, str] = {}
    for need in NEEDS:
        state = str(states.get(need, "") or "")
        if state not in ("", NeedState.OPEN, NeedState.MET):
            raise InvalidInput({"needs": _("Choose open, met or not needed.")})
        if state:
            needs[need] = state
    case.needs = needs
    case.save(update_fields=["needs", "updated_at"])
    audit.record(staff.user, "support.needs", case)
    return case


@transaction.atomic
def do_add_note(case: SupportCase, staff: Staff, text: Any) -> CaseNote:
    errors: dict[str, str] = {}
    clean = _text(text, "note", errors, required=True)
    if errors:
        raise InvalidInput(errors)
    note = CaseNote.objects.create(case=case, author=staff,
                                   text_encrypted=crypto.encrypt(clean))
    SupportCase.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    audit.record(staff.user, "support.note", case)
    return note


@transaction.atomic
def do_set_status(case: SupportCase, staff: Staff, status: Any) -> SupportCase:
    value = str(status or "")
    if value not in CaseStatus.values:
        raise InvalidInput({"status": _("Choose open, waiting or closed.")})
    before = case.status
    case.status = value
    case.closed_at = timezone.now() if value == CaseStatus.CLOSED else None
    case.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(staff.user, "support.status", case, from_state=before, to_state=value)
    return case


@transaction.atomic
def do_assign(case: SupportCase, staff: Staff, volunteer_id: Any) -> SupportCase:
    text = str(volunteer_id or "").strip()
    volunteer = None
    if text:
        volunteer = volunteers_for(case).filter(pk=int(text) if text.isdigit() else 0).first()
        if volunteer is None:
            raise InvalidInput({"assigned": _("Choose a family-support volunteer or a "
                                              "coordinator of this zone.")})
    case.assigned = volunteer
    case.save(update_fields=["assigned", "updated_at"])
    audit.record(staff.user, "support.assigned", case)
    return case


@transaction.atomic
def do_set_follow_up(case: SupportCase, staff: Staff, day: Any) -> SupportCase:
    text = str(day or "").strip()
    value: date | None = None
    if text:
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise InvalidInput({"follow_up_on": _("Enter the date as YYYY-MM-DD.")}) from None
    case.follow_up_on = value
    case.save(update_fields=["follow_up_on", "updated_at"])
    audit.record(staff.user, "support.follow_up", case)
    return case


@transaction.atomic
def do_set_contact(case: SupportCase, staff: Staff, contact: Any) -> SupportCase:
    errors: dict[str, str] = {}
    phone = _phone(contact, errors)
    if errors:
        raise InvalidInput(errors)
    case.contact_encrypted = crypto.encrypt(phone) if phone else ""
    case.save(update_fields=["contact_encrypted", "updated_at"])
    audit.record(staff.user, "support.contact", case)
    return case


# --- partner organisations ----------------------------------------------------------------


def _choices(values: Iterable[str], allowed: list[str]) -> list[str]:
    given = set(values)
    return [v for v in allowed if v in given]


@transaction.atomic
def do_save_partner(partner: Partner | None, *, name: Any, services: Iterable[str],
                    languages: Iterable[str], zone: Zone | None, zone_required: bool,
                    phone: Any = "", url: Any = "") -> Partner:
    """Add (partner None) or change a partner organisation."""
    errors: dict[str, str] = {}
    clean_name = str(name or "").strip()
    if not clean_name or len(clean_name) > 120:
        errors["name"] = _("Enter the organisation's name (at most 120 characters).")
    chosen = _choices(services, NEEDS)
    if not chosen:
        errors["services"] = _("Choose at least one service.")
    spoken = _choices(languages, SPOKEN_LANGUAGE_CODES)
    if not spoken:
        errors["languages"] = _("Choose at least one language.")
    if zone is None and zone_required:
        errors["zone"] = _("Choose one of your zones.")
    clean_phone = str(phone or "").strip()
    if clean_phone:
        try:
            clean_phone = normalise_phone(clean_phone)
        except ValidationError as exc:
            errors["phone"] = str(exc.messages[0])
    clean_url = str(url or "").strip()
    if clean_url:
        try:
            URLValidator(schemes=["http", "https"])(clean_url)
        except ValidationError:
            errors["url"] = _("Enter a web address starting with https://.")
    if errors:
        raise InvalidInput(errors)
    target = partner if partner is not None else Partner()
    target.name, target.services, target.languages = clean_name, chosen, spoken
    target.zone, target.phone, target.url = zone, clean_phone, clean_url
    target.save()
    return target


@transaction.atomic
def do_delete_partner(partner: Partner) -> None:
    partner.delete()
