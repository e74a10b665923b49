"""Shifts as instants: a schedule's occurrences between two moments, with the swaps applied.

A schedule says "Monday to Friday, 18:00 to 06:00" in the network's TIME_ZONE. Each
occurrence starts on a local day at a local time and ends at a local time (the next day
when the end is not after the start); both are turned into UTC here, so an overnight
shift across a change of clocks lasts 11 or 13 hours, as the wall clock says. A local
time that does not exist (02:30 on the night clocks go forward) is read with the offset
before the change, and one that happens twice (01:30 when clocks go back) as the first.

Arithmetic and comparisons are done on UTC datetimes only: Python compares two datetimes
that share one tzinfo by their wall-clock fields, which is wrong across a change of clocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.utils import timezone

from rapidresponse.accounts.models import Staff
from rapidresponse.responders.models import ShiftOverride, ShiftRole, ShiftSchedule


def local_zone() -> tzinfo:
    return timezone.get_default_timezone()


def instant(day: date, at: time) -> datetime:
    """The UTC instant of a wall-clock time on a local day in TIME_ZONE."""
    return datetime.combine(day, at).replace(tzinfo=local_zone()).astimezone(UTC)


def local_day(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def start_of_local_day(day: date) -> datetime:
    return instant(day, time(0, 0))


def week_start(day: date) -> date:
    """The Monday of the week that holds `day`."""
    return day - timedelta(days=day.weekday())


def days_between(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@dataclass(frozen=True)
class Occurrence:
    schedule: ShiftSchedule
    day: date  # the local day it starts
    start: datetime  # UTC
    end: datetime  # UTC
    primary: Staff | None
    backup: Staff | None

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def person(self, role: str) -> Staff | None:
        return self.primary if role == ShiftRole.PRIMARY else self.backup

    @property
    def swapped(self) -> bool:
        return (self.primary != self.schedule.primary or self.backup != self.schedule.backup)


def bounds(schedule: ShiftSchedule, day: date) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the schedule's occurrence that starts on local `day`."""
    start = instant(day, schedule.starts_at)
    end_day = day if schedule.ends_at > schedule.starts_at else day + timedelta(days=1)
    return start, instant(end_day, schedule.ends_at)


def occurrences(schedules: Iterable[ShiftSchedule], start: datetime, end: datetime
                ) -> list[Occurrence]:
    """Every occurrence of these schedules that overlaps [start, end), in order of start.
    The schedules should come with zone, primary__user and backup__user selected; swaps
    are read in one query."""
    schedules = list(schedules)
    if not schedules:
        return []
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    # An occurrence lasts at most a day: one that starts the day before may still be on.
    first, last = local_day(start) - timedelta(days=1), local_day(end)
    swaps: dict[tuple[int, date, str], Staff | None] = {
        (o.schedule_id, o.day, o.role): o.staff
        for o in ShiftOverride.objects.filter(schedule__in=schedules, day__gte=first,
                                              day__lte=last).select_related("staff__user")}
    found = []
    for schedule in schedules:
        days = set(schedule.weekdays)
        since = max(first, schedule.first_day)
        until = min(last, schedule.last_day) if schedule.last_day else last
        for day in days_between(since, until):
            if str(day.weekday()) not in days:
                continue
            begins, ends = bounds(schedule, day)
            if ends <= start or begins >= end:
                continue
            primary = swaps.get((schedule.pk, day, ShiftRole.PRIMARY), schedule.primary)
            backup = swaps.get((schedule.pk, day, ShiftRole.BACKUP), schedule.backup)
            found.append(Occurrence(schedule, day, begins, ends, primary, backup))
    found.sort(key=lambda o: (o.start, o.schedule.pk))
    return found


def occurs_on(schedule: ShiftSchedule, day: date) -> bool:
    """Whether the schedule has an occurrence starting on this local day."""
    return (str(day.weekday()) in schedule.weekdays and schedule.first_day <= day
            and (schedule.last_day is None or day <= schedule.last_day))
