"""Whom the hotline rings: the dispatchers on shift anywhere in the network right now, the
primaries first and then, if none of them answers, the backups; each person once, at the
mobile number of their responder record (the SMS contact of their member record, encrypted
at rest, as `create_staff --phone` sets it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rapidresponse.accounts.models import Staff
from rapidresponse.members.models import Channel, ContactPoint
from rapidresponse.responders.models import Skill
from rapidresponse.responders.queries import OnCall, on_call_board
from rapidresponse.zones.models import Zone


@dataclass(frozen=True)
class OnShift:
    primaries: list[Staff]
    backups: list[Staff]  # backups who are not also a primary somewhere


def dispatchers_on_shift(at: datetime | None = None) -> OnShift:
    """The network's dispatchers on shift at `at` (now), over every zone."""
    zones = list(Zone.objects.all())
    board = on_call_board(zones, [Skill.DISPATCHER], at) if zones else {}
    entries: list[OnCall] = [e for people in board.values() for e in people]
    primaries: dict[int, Staff] = {}
    backups: dict[int, Staff] = {}
    for entry in entries:
        (primaries if entry.is_primary else backups).setdefault(entry.staff.pk, entry.staff)
    return OnShift(primaries=sorted(primaries.values(), key=lambda s: s.pk),
                   backups=sorted((s for pk, s in backups.items() if pk not in primaries),
                                  key=lambda s: s.pk))


def is_on_shift(staff: Staff, at: datetime | None = None) -> bool:
    found = dispatchers_on_shift(at)
    return any(s.pk == staff.pk for s in found.primaries + found.backups)


def phones_of(people: list[Staff]) -> list[str]:
    """The numbers to ring, in order, each once; people with no working mobile number are
    left out (a coordinator sees them in the coverage gaps)."""
    member_ids = [s.member_id for s in people if s.member_id is not None]
    contacts = {c.member_id: c for c in ContactPoint.objects.filter(
        member_id__in=member_ids, kind=Channel.SMS, disabled_at__isnull=True)}
    numbers: list[str] = []
    for person in people:
        contact = contacts.get(person.member_id) if person.member_id is not None else None
        number = contact.value if contact is not None else ""
        if number and number not in numbers:
            numbers.append(number)
    return numbers
