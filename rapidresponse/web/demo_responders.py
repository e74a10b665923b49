"""The demo network's responders and shifts (README, A tour of the demo): responders with
skills, trainings (one expired), languages and availability; verifiers with the verifier
skill; and a week of shifts over the demo's neighbourhoods with backups, and gaps to see.

Every name and number is invented (555-01xx numbers are reserved for fiction)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.utils import timezone

from rapidresponse.accounts.models import Role, Staff
from rapidresponse.responders.actions import (
    build_responder_setup,
    do_add_training,
    do_provision_responder,
    do_set_availability,
    do_set_languages,
)
from rapidresponse.responders.models import (
    Availability,
    ResponderProfile,
    ShiftSchedule,
    Skill,
)
from rapidresponse.responders.schedule import local_day, week_start
from rapidresponse.zones.models import Zone

EVERY_DAY = "0123456"
WEEKDAYS = "01234"


@dataclass(frozen=True)
class DemoResponder:
    username: str
    role: str
    zone: str
    phone: str
    lat: float
    lng: float
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    expired: tuple[str, ...] = ()  # skills whose only training has expired
    availability: str = Availability.AVAILABLE
    away_days: int = 0


RESPONDERS = [
    DemoResponder("responder", Role.RESPONDER, "Boyle Heights", "+13235550161", 34.0360,
                  -118.2100, (Skill.LEGAL_OBSERVER, Skill.WITNESS), ("en", "es")),
    DemoResponder("responder2", Role.RESPONDER, "Westlake", "+13235550162", 34.0590,
                  -118.2750, (Skill.LEGAL_OBSERVER, Skill.ACCOMPANIMENT), ("es", "mam"),
                  availability=Availability.NOT_TODAY),
    DemoResponder("responder3", Role.RESPONDER, "Huntington Park", "+13235550163", 33.9830,
                  -118.2230, (Skill.LEGAL_OBSERVER, Skill.INTERPRETER), ("es", "en", "zap"),
                  expired=(Skill.LEGAL_OBSERVER,)),
    DemoResponder("responder4", Role.RESPONDER, "Van Nuys", "+18185550164", 34.1850,
                  -118.4470, (Skill.ACCOMPANIMENT, Skill.FAMILY_SUPPORT), ("en", "ko"),
                  availability=Availability.AWAY, away_days=3),
]
# The demo's verifiers (web/demo.py makes their logins and members) get the skill too.
VERIFIER_LANGUAGES = {"verifier": ("en",), "verifier2": ("es", "en"), "verifier3": ("en",)}

LOGINS = [r.username for r in RESPONDERS if r.username != "responder"]


@dataclass(frozen=True)
class DemoShift:
    zone: str
    skill: str
    weekdays: str
    starts_at: time
    ends_at: time
    primary: str | None
    backup: str | None


MIDNIGHT, SIX, EIGHT, EIGHTEEN, TWENTY = time(0), time(6), time(8), time(18), time(20)
SHIFTS = [
    # Verifiers: day and night in Boyle Heights, round the clock in Westlake and Huntington
    # Park; Van Nuys on weekdays only and without a backup (gaps to see).
    DemoShift("Boyle Heights", Skill.VERIFIER, EVERY_DAY, SIX, EIGHTEEN, "verifier",
              "verifier2"),
    DemoShift("Boyle Heights", Skill.VERIFIER, EVERY_DAY, EIGHTEEN, SIX, "verifier2",
              "verifier"),
    DemoShift("Westlake", Skill.VERIFIER, EVERY_DAY, MIDNIGHT, MIDNIGHT, "verifier2",
              "verifier"),
    DemoShift("Huntington Park", Skill.VERIFIER, EVERY_DAY, MIDNIGHT, MIDNIGHT, "verifier",
              "verifier3"),
    DemoShift("Van Nuys", Skill.VERIFIER, WEEKDAYS, MIDNIGHT, MIDNIGHT, "verifier3", None),
    # Legal observers: responder3's training has expired, so Huntington Park and Boyle
    # Heights have no backup that counts; Westlake only on weekday days; none in Van Nuys.
    DemoShift("Boyle Heights", Skill.LEGAL_OBSERVER, EVERY_DAY, MIDNIGHT, MIDNIGHT,
              "responder", "responder3"),
    DemoShift("Westlake", Skill.LEGAL_OBSERVER, WEEKDAYS, EIGHT, TWENTY, "responder2",
              "responder"),
    DemoShift("Huntington Park", Skill.LEGAL_OBSERVER, EVERY_DAY, MIDNIGHT, MIDNIGHT,
              "responder3", "responder"),
]


def is_seeded() -> bool:
    return ResponderProfile.objects.exists()


def seed_responders(make_login: Callable[[str, str, list[Zone]], Staff]) -> None:
    """Responders' logins (through `make_login(username, role, zones)`, web/demo.py's), their
    profiles, and the shifts from the Monday of this week on. Does nothing when done."""
    if is_seeded():
        return
    today = local_day(timezone.now())
    year_ago = today - timedelta(days=365)
    for r in RESPONDERS:
        staff = make_login(r.username, r.role, [Zone.objects.get(name=r.zone)])
        do_set_languages(staff, r.languages)
        do_provision_responder(staff, build_responder_setup(
            phone=r.phone, latitude=r.lat, longitude=r.lng, skills=r.skills))
        for skill in r.skills:
            if skill in r.expired:
                do_add_training(None, staff, skill, year_ago - timedelta(days=400),
                                year_ago)
            else:
                do_add_training(None, staff, skill, year_ago, today + timedelta(days=365))
        if r.availability != Availability.AVAILABLE:
            do_set_availability(staff, r.availability,
                                today + timedelta(days=r.away_days) if r.away_days else None)
    for username, languages in VERIFIER_LANGUAGES.items():
        staff = Staff.objects.get(user__username=username)
        do_set_languages(staff, languages)
        do_provision_responder(staff, build_responder_setup(skills=[Skill.VERIFIER]))
        do_add_training(None, staff, Skill.VERIFIER, year_ago, today + timedelta(days=365))
    _shifts(week_start(today))


def _shifts(monday: date) -> None:
    people = {s.user.username: s for s in Staff.objects.select_related("user")}
    ShiftSchedule.objects.bulk_create([ShiftSchedule(
        zone=Zone.objects.get(name=s.zone), skill=s.skill, weekdays=s.weekdays,
        starts_at=s.starts_at, ends_at=s.ends_at, first_day=monday,
        primary=people.get(s.primary or ""), backup=people.get(s.backup or ""))
        for s in SHIFTS])
