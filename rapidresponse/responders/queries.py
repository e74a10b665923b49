"""Reads about responders shared by the console, the hotline, routing and dispatch: who can
be sent for a skill (`available_responders`), who is on call (`on_call_now`), and where the
week ahead has nobody or no backup (`coverage_gaps`).

Two rules are written here once and used by all three:
- a person counts for a skill only with a current training in it (completed, not expired
  on the local day in TIME_ZONE);
- a person who said they are away (not today, or until a date) does not count until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from rapidresponse.accounts.models import Staff
from rapidresponse.lib import geo
from rapidresponse.responders.models import (
    ResponderProfile,
    ResponderSkill,
    ShiftRole,
    ShiftSchedule,
    Skill,
    Training,
)
from rapidresponse.responders.schedule import Occurrence, local_day, occurrences
from rapidresponse.zones.models import Zone

FAR = 10**6  # the distance of someone whose home cell is not known: last


def current_training(skill: str, today: date) -> Q:
    """Trainings in `skill` that count on local day `today`."""
    return (Q(skill=skill, completed_on__lte=today)
            & (Q(expires_on__isnull=True) | Q(expires_on__gte=today)))


def available_at(moment: datetime) -> Q:
    """Profiles whose owner is not away at `moment`."""
    return Q(away_until__isnull=True) | Q(away_until__lte=moment)


def ancestors(zone: Zone) -> list[Zone]:
    """The zone, then the zone that holds it, and so on (a region's shift covers its
    neighbourhoods)."""
    chain, seen = [], set()
    current: Zone | None = zone
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.parent
    return chain


def qualified(skill: str, moment: datetime) -> QuerySet[ResponderProfile]:
    """Profiles of active staff with the skill and a current training in it, available at
    `moment`."""
    today = local_day(moment)
    return (ResponderProfile.objects
            .filter(staff__user__is_active=True)
            .filter(Exists(ResponderSkill.objects.filter(profile=OuterRef("pk"), skill=skill)))
            .filter(Exists(Training.objects.filter(current_training(skill, today),
                                                   profile=OuterRef("pk"))))
            .filter(available_at(moment)))


@dataclass(frozen=True)
class Nearby:
    profile: ResponderProfile
    distance: int | None  # rings of resolution-8 cells from the place; None: unknown

    @property
    def staff(self) -> Staff:
        return self.profile.staff


def available_responders(skill: str, near_cell: int, *, at: datetime | None = None,
                         zone: Zone | None = None, language: str | None = None,
                         limit: int | None = None) -> list[Nearby]:
    """Responders who can go now for `skill`, nearest `near_cell` first (by their coarse
    home cell; people with no home cell last, then by id). Only active staff with the skill,
    a current training in it and no "away" in force. With `zone`: only people who work in
    that zone, a zone holding it, or who are not limited to any zone. With `language`: only
    people who speak it. One query; the ranking is done here (a network has hundreds of
    responders, not millions)."""
    moment = at or timezone.now()
    profiles = qualified(skill, moment).select_related("staff__user", "staff__member")
    if zone is not None:
        chain = [z.pk for z in ancestors(zone)]
        profiles = profiles.filter(Q(staff__zones__in=chain) | Q(staff__zones__isnull=True))
    ranked = []
    origin = geo.parent(near_cell, settings.H3_MEMBER_RESOLUTION)
    seen = set()
    for profile in profiles:
        if profile.pk in seen:
            continue
        seen.add(profile.pk)
        if language and language not in (profile.languages or []):
            continue
        distance = (geo.grid_distance(origin, profile.home_cell)
                    if profile.home_cell is not None else None)
        ranked.append(Nearby(profile, distance))
    ranked.sort(key=lambda n: (FAR if n.distance is None else n.distance, n.profile.staff_id))
    return ranked[:limit] if limit is not None else ranked


# --- shifts ---------------------------------------------------------------------------------


def schedules_for(zones: Iterable[Zone], skills: Sequence[str] | None = None
                  ) -> QuerySet[ShiftSchedule]:
    qs = (ShiftSchedule.objects.filter(zone__in=list(zones))
          .select_related("zone", "primary__user", "backup__user"))
    return qs.filter(skill__in=skills) if skills is not None else qs


class Fitness:
    """Who counts for which skill at which moment: trainings and "away" times of the people
    on a set of shifts, read in two queries."""

    def __init__(self, staff_ids: Iterable[int], now: datetime):
        ids = {i for i in staff_ids if i is not None}
        self.now = now
        self.active = set(Staff.objects.filter(pk__in=ids, user__is_active=True)
                          .values_list("pk", flat=True))
        self.away_until: dict[int, datetime | None] = dict(
            ResponderProfile.objects.filter(staff_id__in=ids)
            .values_list("staff_id", "away_until"))
        self.trainings: dict[tuple[int, str], list[tuple[date, date | None]]] = {}
        for staff_id, skill, done, expires in Training.objects.filter(
                profile__staff_id__in=ids).values_list("profile__staff_id", "skill",
                                                       "completed_on", "expires_on"):
            self.trainings.setdefault((staff_id, skill), []).append((done, expires))

    def trained(self, staff: Staff | None, skill: str, moment: datetime) -> bool:
        if staff is None:
            return False
        today = local_day(moment)
        return any(done <= today and (expires is None or today <= expires)
                   for done, expires in self.trainings.get((staff.pk, skill), []))

    def away(self, staff: Staff | None, moment: datetime) -> bool:
        """Away at `moment` as they said it now (an away time is all we know of the future)."""
        until = self.away_until.get(staff.pk) if staff is not None else None
        return until is not None and moment < until

    def counts(self, staff: Staff | None, skill: str, moment: datetime) -> bool:
        return (staff is not None and staff.pk in self.active
                and staff.pk in self.away_until  # has a profile
                and self.trained(staff, skill, moment) and not self.away(staff, moment))


def people_of(found: Iterable[Occurrence]) -> set[int]:
    ids: set[int] = set()
    for o in found:
        ids.update(s.pk for s in (o.primary, o.backup) if s is not None)
    return ids


@dataclass(frozen=True)
class OnCall:
    staff: Staff
    role: str  # ShiftRole
    zone: Zone
    skill: str
    until: datetime  # UTC: when this shift ends

    @property
    def is_primary(self) -> bool:
        return self.role == ShiftRole.PRIMARY


def on_call_now(zone: Zone, skill: str, at: datetime | None = None) -> list[OnCall]:
    """Who is on call for `skill` in `zone` at `at` (now): the primary, then the backup, of
    every shift on at that moment, the zone's own shifts before those of the zones that
    hold it. Someone on shift without a current training in the skill, away, or switched
    off is left out (the next one steps up). Each person once."""
    return on_call_board([zone], [skill], at)[(zone.pk, skill)]


def on_call_board(zones: Sequence[Zone], skills: Sequence[str], at: datetime | None = None
                  ) -> dict[tuple[int, str], list[OnCall]]:
    """`on_call_now` for every zone and skill at once, in four queries: {(zone id, skill):
    people}."""
    moment = (at or timezone.now()).astimezone(UTC)
    chains = {z.pk: ancestors(z) for z in zones}
    every_zone = {z.pk: z for chain in chains.values() for z in chain}
    on = [o for o in occurrences(schedules_for(every_zone.values(), list(skills)), moment,
                                 moment + timedelta(seconds=1)) if o.covers(moment)]
    fit = Fitness(people_of(on), moment)
    board = {}
    for zone in zones:
        depth = {z.pk: i for i, z in enumerate(chains[zone.pk])}
        for skill in skills:
            ranked = []
            for o in on:
                if o.schedule.skill != skill or o.schedule.zone_id not in depth:
                    continue
                for order, role in enumerate((ShiftRole.PRIMARY, ShiftRole.BACKUP)):
                    person = o.person(role)
                    if person is not None and fit.counts(person, skill, moment):
                        ranked.append(((depth[o.schedule.zone_id], order, o.start,
                                        o.schedule.pk),
                                       OnCall(person, role, o.schedule.zone, skill, o.end)))
            ranked.sort(key=lambda item: item[0])
            people, seen = [], set()
            for _key, entry in ranked:
                if entry.staff.pk not in seen:
                    seen.add(entry.staff.pk)
                    people.append(entry)
            board[(zone.pk, skill)] = people
    return board


# --- gaps in coverage -------------------------------------------------------------------------

NOBODY = "nobody"
NO_BACKUP = "no_backup"


@dataclass(frozen=True)
class Gap:
    start: datetime  # UTC
    end: datetime
    kind: str  # NOBODY or NO_BACKUP

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)


@dataclass
class Coverage:
    zone: Zone
    skill: str
    gaps: list[Gap] = field(default_factory=list)

    def hours(self, kind: str) -> int:
        return sum(g.hours for g in self.gaps if g.kind == kind)

    @property
    def nobody_hours(self) -> int:
        return self.hours(NOBODY)

    @property
    def no_backup_hours(self) -> int:
        return self.hours(NO_BACKUP)


def hour_starts(start: datetime, hours: int) -> list[datetime]:
    """Whole hours from `start` (rounded down to the hour), in UTC: 23 or 25 local hours on
    a day when clocks change."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [first + timedelta(hours=i) for i in range(hours)]


def coverage_gaps(zones: Sequence[Zone], skills: Sequence[str], start: datetime | None = None,
                  days: int = 7) -> list[Coverage]:
    """For each zone and skill, the hours of the next `days` days (from the hour holding
    `start`) with nobody on call, and with a primary but no backup. An hour counts as
    covered by someone only if one of their shifts spans the whole hour, they have a current
    training in the skill then and have not said they are away then. Consecutive hours of
    one kind are one gap. Three queries whatever the number of zones and skills."""
    slots = hour_starts(start or timezone.now(), 24 * days)
    if not slots or not zones or not skills:
        return []
    begin, end = slots[0], slots[-1] + timedelta(hours=1)
    chains = {z.pk: ancestors(z) for z in zones}
    every_zone = {z.pk: z for chain in chains.values() for z in chain}
    found = occurrences(schedules_for(every_zone.values(), list(skills)), begin, end)
    fit = Fitness(people_of(found), timezone.now())
    result = []
    for zone in zones:
        chain_ids = {z.pk for z in chains[zone.pk]}
        for skill in skills:
            mine = [o for o in found if o.schedule.skill == skill
                    and o.schedule.zone_id in chain_ids]
            coverage = Coverage(zone, skill)
            for slot in slots:
                slot_end = slot + timedelta(hours=1)
                people = []
                for o in mine:
                    if o.start <= slot and slot_end <= o.end:
                        people += [p for p in (o.primary, o.backup)
                                   if fit.counts(p, skill, slot)]
                count = len({p.pk for p in people if p is not None})
                kind = NOBODY if count == 0 else NO_BACKUP if count == 1 else ""
                _extend(coverage.gaps, slot, slot_end, kind)
            result.append(coverage)
    return result


def _extend(gaps: list[Gap], start: datetime, end: datetime, kind: str) -> None:
    if not kind:
        return
    if gaps and gaps[-1].kind == kind and gaps[-1].end == start:
        gaps[-1] = Gap(gaps[-1].start, end, kind)
    else:
        gaps.append(Gap(start, end, kind))


def scheduled_skills() -> list[str]:
    """The skills the network puts on call (those with any shift), in the order of Skill."""
    used = set(ShiftSchedule.objects.values_list("skill", flat=True).distinct())
    return [s for s in Skill.values if s in used]
