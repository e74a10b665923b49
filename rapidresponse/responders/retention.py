"""Responders' retention rules and their entries in the privacy manifest (enforced by
rapidresponse.jobs): what a responder's profile, trainings, shifts and calendar link hold,
and when it goes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapidresponse.accounts.models import Staff
from rapidresponse.jobs.registry import personal_data, retention
from rapidresponse.jobs.retention import deleted
from rapidresponse.responders.models import (
    Availability,
    CalendarFeed,
    ResponderProfile,
    ShiftOverride,
    ShiftSchedule,
    Training,
)
from rapidresponse.responders.schedule import local_day


@retention("former_responders", model="responders.ResponderProfile",
           rule=_("a staff login switched off: its responder profile (home cell, languages, "
                  "availability, skills, trainings) and calendar link deleted, and its name "
                  "taken off every shift and swap, at the next hourly run"))
def former_responders(now: datetime) -> dict[str, int]:
    gone = Staff.objects.filter(user__is_active=False).values("pk")
    return {
        "former_responder_profiles": deleted(ResponderProfile.objects.filter(
            staff__user__is_active=False)),
        "former_calendar_links": deleted(CalendarFeed.objects.filter(
            staff__user__is_active=False)),
        "former_swaps": deleted(ShiftOverride.objects.filter(staff__user__is_active=False)),
        "former_primaries": ShiftSchedule.objects.filter(
            primary__in=gone).update(primary=None),
        "former_backups": ShiftSchedule.objects.filter(
            backup__in=gone).update(backup=None),
    }


@retention("past_shifts", model="responders.ShiftSchedule",
           rule=_("shift schedules that ended, and swaps of past days, deleted "
                  "RETENTION_SHIFT_DAYS after the day"))
def past_shifts(now: datetime) -> dict[str, int]:
    cutoff = local_day(now) - timedelta(days=settings.RETENTION_SHIFT_DAYS)
    return {"past_swaps": deleted(ShiftOverride.objects.filter(day__lt=cutoff)),
            "past_shifts": deleted(ShiftSchedule.objects.filter(last_day__lt=cutoff))}


@retention("expired_trainings", model="responders.Training",
           rule=_("trainings deleted RETENTION_SHIFT_DAYS after they expired"))
def expired_trainings(now: datetime) -> int:
    cutoff = local_day(now) - timedelta(days=settings.RETENTION_SHIFT_DAYS)
    return deleted(Training.objects.filter(expires_on__lt=cutoff))


@retention("past_availability", model="responders.ResponderProfile",
           rule=_("an away time that has passed is erased (no record of absences is kept)"))
def past_availability(now: datetime) -> int:
    return ResponderProfile.objects.filter(away_until__lte=now).update(
        away_until=None, availability=Availability.AVAILABLE)


personal_data(
    "responders.ResponderProfile",
    fields=("staff", "home_cell", "languages", "availability", "away_until"),
    category="staff",
    purpose=_("sending the nearest trained responder who speaks the language and is free"),
    protection=_("home: a resolution-8 H3 cell (about 0.7 km²), never the point; languages "
                 "and availability plain"),
    retention=("former_responders", "past_availability"))
personal_data(
    "responders.ResponderSkill", fields=("profile", "skill"), category="staff",
    purpose=_("what a responder is sent to do"), protection=_("plain"),
    retention=("former_responders",), dated_by="")
personal_data(
    "responders.Training", fields=("profile", "skill", "completed_on", "expires_on"),
    category="staff", purpose=_("only people with a current training are sent for a skill"),
    protection=_("plain: the skill and the dates, no certificate or note"),
    retention=("former_responders", "expired_trainings"))
personal_data(
    "responders.ShiftSchedule", fields=("primary", "backup"), category="staff",
    purpose=_("who is on call, when, for which zone and skill"), protection=_("plain"),
    retention=("former_responders", "past_shifts"))
personal_data(
    "responders.ShiftOverride", fields=("staff", "day"), category="staff",
    purpose=_("a swap: someone else on one shift"), protection=_("plain"),
    retention=("former_responders", "past_shifts"))
personal_data(
    "responders.CalendarFeed", fields=("staff", "token_hash", "token_encrypted"),
    category="staff", purpose=_("a responder's private link to their shifts as a calendar"),
    protection=_("found by the SHA-256 hash of a random 256-bit token; the token encrypted "
                 "(Fernet) so that its owner can see the link again; deleted when revoked"),
    retention=("former_responders",), encrypted=("token_encrypted",))
