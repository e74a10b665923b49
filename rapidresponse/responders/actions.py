"""Writes about responders: availability and languages (by the responder), skills and
trainings (by coordinators), shifts and swaps, the private calendar link, and provisioning
from `create_staff`. Each validates its input and raises InvalidInput with a message per
field, in the reader's language."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.models import Staff
from rapidresponse.lib import crypto, geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.actions import MemberInput, do_create_member, place_from_point
from rapidresponse.members.contacts import index_for, normalise
from rapidresponse.members.models import Channel, ContactPoint, Member, language_codes
from rapidresponse.responders.models import (
    SPOKEN_LANGUAGE_CODES,
    Availability,
    CalendarFeed,
    ResponderProfile,
    ResponderSkill,
    ShiftOverride,
    ShiftRole,
    ShiftSchedule,
    Skill,
    Training,
)
from rapidresponse.responders.schedule import local_day, occurs_on, start_of_local_day
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import middle

Actor = User | AnonymousUser | None
MAX_AWAY_DAYS = 366


def profile_of(staff: Staff) -> ResponderProfile:
    """The staff member's responder profile, made on first use."""
    profile, _created = ResponderProfile.objects.get_or_create(staff=staff)
    return profile


def _date(raw: Any, name: str, errors: dict[str, str], *, required: bool = True
          ) -> date | None:
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    if not text:
        if required:
            errors[name] = _("Enter a date.")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Enter the date as YYYY-MM-DD.")
        return None


def _time(raw: Any, name: str, errors: dict[str, str]) -> time | None:
    if isinstance(raw, time):
        return raw
    text = str(raw or "").strip()
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        errors[name] = _("Enter the time as HH:MM (24-hour clock).")
        return None


def _choices(raw: Iterable[Any], allowed: list[str], name: str, errors: dict[str, str],
             message: str) -> list[str]:
    values = list(dict.fromkeys(str(v).strip() for v in raw if str(v).strip()))
    if any(v not in allowed for v in values):
        errors[name] = message
    return [v for v in allowed if v in values]


# --- the responder's own settings -----------------------------------------------------------


@transaction.atomic
def do_set_availability(staff: Staff, choice: Any, back_on: Any = None, *,
                        now: datetime | None = None) -> ResponderProfile:
    """Available now, not today (back at the next local midnight), or away until a date
    (back at the start of that day in TIME_ZONE)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    choice = str(choice or "").strip()
    away_until = None
    if choice not in Availability.values:
        errors["availability"] = _("Choose whether you are available.")
    elif choice == Availability.NOT_TODAY:
        away_until = start_of_local_day(local_day(now) + timedelta(days=1))
    elif choice == Availability.AWAY:
        day = _date(back_on, "back_on", errors)
        today = local_day(now)
        if day is not None and day <= today:
            errors["back_on"] = _("Choose a day after today.")
        elif day is not None and day > today + timedelta(days=MAX_AWAY_DAYS):
            errors["back_on"] = _("Choose a day within a year.")
        elif day is not None:
            away_until = start_of_local_day(day)
    if errors:
        raise InvalidInput(errors)
    profile = profile_of(staff)
    profile.availability = choice
    profile.away_until = away_until
    profile.save(update_fields=["availability", "away_until", "updated_at"])
    return profile


@transaction.atomic
def do_set_languages(staff: Staff, languages: Iterable[Any]) -> ResponderProfile:
    errors: dict[str, str] = {}
    codes = _choices(languages, SPOKEN_LANGUAGE_CODES, "languages", errors,
                     _("Choose languages from the list."))
    if errors:
        raise InvalidInput(errors)
    profile = profile_of(staff)
    profile.languages = codes
    profile.save(update_fields=["languages", "updated_at"])
    return profile


# --- coordinators: skills, languages, home area, trainings ---------------------------------


@transaction.atomic
def do_save_profile(actor: Actor, staff: Staff, *, skills: Iterable[Any],
                    languages: Iterable[Any], home_zone: Zone | None = None,
                    clear_home: bool = False) -> ResponderProfile:
    """Skills and languages; a home area from a neighbourhood (its middle cell), or none."""
    errors: dict[str, str] = {}
    chosen = _choices(skills, Skill.values, "skills", errors, _("Choose skills from the list."))
    codes = _choices(languages, SPOKEN_LANGUAGE_CODES, "languages", errors,
                     _("Choose languages from the list."))
    cell = None
    if home_zone is not None:
        point = middle(home_zone)
        if point is None:
            errors["home"] = _("This neighbourhood has no area yet.")
        else:
            cell = geo.cell_for(point[0], point[1], settings.H3_MEMBER_RESOLUTION)
    if errors:
        raise InvalidInput(errors)
    profile = profile_of(staff)
    profile.languages = codes
    if cell is not None:
        profile.home_cell = cell
    elif clear_home:
        profile.home_cell = None
    profile.save(update_fields=["languages", "home_cell", "updated_at"])
    _set_skills(profile, chosen)
    audit.record(actor, "responder.profile_saved", staff, skills=chosen)
    return profile


def _set_skills(profile: ResponderProfile, skills: list[str]) -> None:
    profile.skills.exclude(skill__in=skills).delete()
    have = set(profile.skills.values_list("skill", flat=True))
    ResponderSkill.objects.bulk_create([ResponderSkill(profile=profile, skill=s)
                                        for s in skills if s not in have])


@transaction.atomic
def do_add_training(actor: Actor, staff: Staff, skill: Any, completed_on: Any,
                    expires_on: Any = None) -> Training:
    errors: dict[str, str] = {}
    skill = str(skill or "").strip()
    if skill not in Skill.values:
        errors["skill"] = _("Choose a skill.")
    done = _date(completed_on, "completed_on", errors)
    expires = _date(expires_on, "expires_on", errors, required=False)
    if done is not None and done > local_day(timezone.now()):
        errors["completed_on"] = _("The training cannot be in the future.")
    if done is not None and expires is not None and expires < done:
        errors["expires_on"] = _("The expiry must be after the training.")
    if errors:
        raise InvalidInput(errors)
    assert done is not None
    profile = profile_of(staff)
    training = Training.objects.create(profile=profile, skill=skill, completed_on=done,
                                       expires_on=expires)
    audit.record(actor, "responder.training_added", staff, skill=skill)
    return training


@transaction.atomic
def do_remove_training(actor: Actor, training: Training) -> None:
    staff = training.profile.staff
    skill = training.skill
    training.delete()
    audit.record(actor, "responder.training_removed", staff, skill=skill)


# --- shifts ---------------------------------------------------------------------------------


@dataclass
class ScheduleInput:
    zone: Zone
    skill: str
    weekdays: str
    starts_at: time
    ends_at: time
    first_day: date
    last_day: date | None
    primary: Staff | None
    backup: Staff | None


def build_schedule_input(data: Any, *, zones: list[Zone], people: QuerySet[Staff]
                         ) -> ScheduleInput:
    """Validate a schedule from a form (a QueryDict or a dict with a `weekdays` list);
    `zones` and `people` are the ones the coordinator may use."""
    errors: dict[str, str] = {}
    getlist = data.getlist if hasattr(data, "getlist") else (lambda k: data.get(k) or [])
    zone = next((z for z in zones if str(z.pk) == str(data.get("zone") or "")), None)
    if zone is None:
        errors["zone"] = _("Choose a zone.")
    skill = str(data.get("skill") or "").strip()
    if skill not in Skill.values:
        errors["skill"] = _("Choose a skill.")
    days = sorted({str(d) for d in getlist("weekdays") if str(d) in "0123456" and str(d)})
    if not days:
        errors["weekdays"] = _("Choose at least one day of the week.")
    starts_at = _time(data.get("starts_at"), "starts_at", errors)
    ends_at = _time(data.get("ends_at"), "ends_at", errors)
    first_day = _date(data.get("first_day"), "first_day", errors)
    last_day = _date(data.get("last_day"), "last_day", errors, required=False)
    if first_day and last_day and last_day < first_day:
        errors["last_day"] = _("The last day must not be before the first day.")
    chosen: dict[str, Staff | None] = {}
    for role in ("primary", "backup"):
        raw = str(data.get(role) or "").strip()
        chosen[role] = None
        if raw:
            person = people.filter(pk=raw).select_related("user").first() \
                if raw.isdigit() else None
            if person is None:
                errors[role] = _("Choose someone from the list.")
            chosen[role] = person
    if chosen["primary"] is not None and chosen["primary"] == chosen["backup"]:
        errors["backup"] = _("The backup must be someone other than the primary.")
    if errors:
        raise InvalidInput(errors)
    assert zone and starts_at and ends_at and first_day
    return ScheduleInput(zone=zone, skill=skill, weekdays="".join(days), starts_at=starts_at,
                         ends_at=ends_at, first_day=first_day, last_day=last_day,
                         primary=chosen["primary"], backup=chosen["backup"])


@transaction.atomic
def do_save_schedule(actor: Actor, data: ScheduleInput,
                     schedule: ShiftSchedule | None = None) -> ShiftSchedule:
    schedule = schedule or ShiftSchedule()
    for name in ("zone", "skill", "weekdays", "starts_at", "ends_at", "first_day", "last_day",
                 "primary", "backup"):
        setattr(schedule, name, getattr(data, name))
    created = schedule.pk is None
    schedule.save()
    audit.record(actor, "shift.created" if created else "shift.changed", schedule,
                 zone=data.zone.pk, skill=data.skill)
    return schedule


@transaction.atomic
def do_delete_schedule(actor: Actor, schedule: ShiftSchedule) -> None:
    audit.record(actor, "shift.deleted", schedule, zone=schedule.zone_id, skill=schedule.skill)
    schedule.delete()


@transaction.atomic
def do_swap(actor: Actor, schedule: ShiftSchedule, day: Any, role: Any, person: Any, *,
            people: QuerySet[Staff]) -> ShiftOverride | None:
    """Someone else (or nobody: person "none") in one role for the occurrence starting on
    `day`; "" puts the schedule's own person back."""
    errors: dict[str, str] = {}
    when = _date(day, "day", errors)
    if when is not None and not occurs_on(schedule, when):
        errors["day"] = _("This shift does not happen on that day.")
    role = str(role or "").strip()
    if role not in ShiftRole.values:
        errors["role"] = _("Choose primary or backup.")
    raw = str(person or "").strip()
    staff = None
    if raw not in ("", "none"):
        staff = people.filter(pk=raw).first() if raw.isdigit() else None
        if staff is None:
            errors["person"] = _("Choose someone from the list.")
    if errors:
        raise InvalidInput(errors)
    assert when is not None
    ShiftOverride.objects.filter(schedule=schedule, day=when, role=role).delete()
    if raw == "":
        audit.record(actor, "shift.swap_undone", schedule, day=when.isoformat(), role=role)
        return None
    override = ShiftOverride.objects.create(schedule=schedule, day=when, role=role, staff=staff)
    audit.record(actor, "shift.swapped", schedule, day=when.isoformat(), role=role,
                 staff=staff.pk if staff else None)
    return override


# --- the private calendar link --------------------------------------------------------------


def feed_token_hash(token: str) -> str:
    return crypto.token_hash(token)


@transaction.atomic
def do_new_calendar_link(staff: Staff) -> str:
    """A new private link to the staff member's shifts; the old one stops working."""
    CalendarFeed.objects.filter(staff=staff).delete()
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.create(staff=staff, token_hash=feed_token_hash(token),
                                token_encrypted=crypto.encrypt(token))
    audit.record(staff.user, "responder.calendar_link_made", staff)
    return token


@transaction.atomic
def do_revoke_calendar_link(staff: Staff) -> bool:
    gone = CalendarFeed.objects.filter(staff=staff).delete()[0] > 0
    if gone:
        audit.record(staff.user, "responder.calendar_link_revoked", staff)
    return gone


def calendar_token(staff: Staff) -> str | None:
    feed = CalendarFeed.objects.filter(staff=staff).first()
    return crypto.decrypt(feed.token_encrypted) if feed is not None else None


# --- provisioning (create_staff, the demo) ---------------------------------------------------


@dataclass
class ResponderSetup:
    phone: str = ""  # E.164
    home_cell: int | None = None  # resolution 8; the point is not kept
    point: tuple[float, float] | None = None  # only to make the member's watch area
    skills: list[str] | None = None


def build_responder_setup(*, phone: Any = None, latitude: Any = None, longitude: Any = None,
                          skills: Iterable[Any] | None = None) -> ResponderSetup:
    errors: dict[str, str] = {}
    setup = ResponderSetup()
    if phone not in (None, ""):
        try:
            setup.phone = normalise(Channel.SMS, str(phone))
        except ValidationError as exc:
            errors["phone"] = exc.messages[0]
    if (latitude in (None, "")) != (longitude in (None, "")):
        errors["latitude"] = _("Give both the latitude and the longitude.")
    elif latitude not in (None, ""):
        try:
            lat, lng = geo.validate_latlng(float(latitude), float(longitude))
            setup.point = (lat, lng)
            setup.home_cell = geo.cell_for(lat, lng, settings.H3_MEMBER_RESOLUTION)
        except (TypeError, ValueError):
            errors["latitude"] = _("The location is not a valid latitude and longitude.")
    if skills is not None:
        setup.skills = _choices(skills, Skill.values, "skills", errors,
                                _("Unknown skill: use %(skills)s.")
                                % {"skills": ", ".join(Skill.values)})
    if errors:
        raise InvalidInput(errors)
    return setup


@transaction.atomic
def do_provision_responder(staff: Staff, setup: ResponderSetup) -> ResponderProfile:
    """The phone becomes the SMS contact of the staff member's member record (encrypted,
    confirmed: messages reach them through the outbox); the point becomes their home cell
    (and the member's home watch area) and is then forgotten; the skills are set."""
    profile = profile_of(staff)
    if setup.home_cell is not None:
        profile.home_cell = setup.home_cell
        profile.save(update_fields=["home_cell", "updated_at"])
    if setup.skills is not None:
        _set_skills(profile, setup.skills)
    if setup.phone:
        _reach_by_sms(staff, setup)
    elif setup.point is not None and staff.member is not None:
        _home_watch_area(staff.member, setup.point)
    return profile


def _home_watch_area(member: Member, point: tuple[float, float]) -> None:
    place = place_from_point(point[0], point[1], 500, "home")
    member.watch_areas.filter(label="home").delete()
    member.watch_areas.create(label="home", cell=place.cell, rings=place.rings,
                              radius_m=place.radius_m)


def _reach_by_sms(staff: Staff, setup: ResponderSetup) -> None:
    now = timezone.now()
    index = index_for(Channel.SMS, setup.phone)
    owner = (ContactPoint.objects.filter(kind=Channel.SMS, blind_index=index)
             .select_related("member").first())
    member = staff.member
    if owner is not None and member is not None and owner.member_id != member.pk:
        raise InvalidInput({"phone": _("This phone number belongs to another member.")})
    if owner is not None and member is None:
        if Staff.objects.filter(member=owner.member).exclude(pk=staff.pk).exists():
            raise InvalidInput({"phone": _("This phone number belongs to other staff.")})
        member = owner.member  # the same person, already on the list
    if member is None:
        point = setup.point
        places = ([place_from_point(point[0], point[1], 500, "home")] if point else [])
        member = do_create_member(MemberInput(
            name=staff.user.username, language=_member_language(staff),
            contacts={Channel.SMS: setup.phone}, channels=[Channel.SMS], places=places),
            source=Member.Source.STAFF)
    else:
        contact = member.contacts.filter(kind=Channel.SMS).first() or ContactPoint(
            member=member, kind=Channel.SMS)
        contact.value_encrypted = crypto.encrypt(setup.phone)
        contact.blind_index = index
        contact.enabled = True
        contact.verified_at = contact.verified_at or now
        contact.disabled_at = None
        contact.save()
        if member.status != Member.Status.ACTIVE:
            member.status = Member.Status.ACTIVE
            member.consent_at = member.consent_at or now
            member.save(update_fields=["status", "consent_at"])
        if setup.point is not None:
            _home_watch_area(member, setup.point)
    if staff.member_id != member.pk:
        staff.member = member
        staff.save(update_fields=["member"])


def _member_language(staff: Staff) -> str:
    profile = ResponderProfile.objects.filter(staff=staff).first()
    for code in (profile.languages if profile else []) or []:
        if code in language_codes():
            return str(code)
    return settings.LANGUAGE_CODE
