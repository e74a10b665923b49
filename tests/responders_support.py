"""Responders and shifts for tests: people with skills, trainings and places, and weekly
shifts, made through the app's own actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from rapidresponse.accounts.models import Staff
from rapidresponse.responders.actions import (
    build_responder_setup,
    do_add_training,
    do_provision_responder,
)
from rapidresponse.responders.models import ShiftSchedule
from rapidresponse.zones.models import Zone
from tests.conftest import make_staff

EVERY_DAY = "0123456"


def today() -> date:
    return timezone.localdate()


def responder(username: str, skills: tuple[str, ...] = ("legal_observer",), *,
              role: str = "responder", at: tuple[float, float] | None = None,
              phone: str = "", zones: list[Zone] | None = None,
              trained: bool = True, expired: bool = False, languages: list[str] | None = None,
              second_factor: bool = True) -> Staff:
    """A staff member with these skills and, unless told otherwise, a current training in
    each (an expired one with expired=True)."""
    staff = make_staff(username, role, second_factor=second_factor, zones=zones or None)
    setup = build_responder_setup(
        phone=phone or None, latitude=at[0] if at else None, longitude=at[1] if at else None,
        skills=list(skills))
    profile = do_provision_responder(staff, setup)
    if languages is not None:
        profile.languages = languages
        profile.save()
    for skill in skills if trained else ():
        if expired:
            do_add_training(None, staff, skill, date(2019, 1, 1),
                            today() - timedelta(days=1))
        else:  # current since before any date the tests use
            do_add_training(None, staff, skill, date(2020, 1, 1),
                            today() + timedelta(days=365))
    staff.refresh_from_db()
    return staff


def shift(zone: Zone, skill: str, primary: Staff | None, backup: Staff | None = None, *,
          weekdays: str = EVERY_DAY, starts: str = "00:00", ends: str = "00:00",
          first_day: date | None = None, last_day: date | None = None) -> ShiftSchedule:
    return ShiftSchedule.objects.create(
        zone=zone, skill=skill, weekdays=weekdays, starts_at=time.fromisoformat(starts),
        ends_at=time.fromisoformat(ends), first_day=first_day or date(2020, 1, 6),
        last_day=last_day, primary=primary, backup=backup)


def utc(*args: Any) -> datetime:
    return datetime(*args, tzinfo=UTC)
