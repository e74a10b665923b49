"""Each responder's shifts as an iCalendar feed (RFC 5545), behind a private link.

The link carries a random token (256 bits); only its SHA-256 hash finds the feed, so the
link cannot be guessed or counted through, and revoking it (deleting the row) makes it 404
at once. The feed holds the responder's own shifts from a week ago to FEED_WEEKS ahead,
swaps applied, each as one event in UTC (every calendar app converts) with the zone, the
skill and whether they are primary or backup: never anyone else's name or number. Texts are
in the responder's language (their member record's, else the network's default)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapidresponse.accounts.models import Staff
from rapidresponse.responders.actions import feed_token_hash
from rapidresponse.responders.models import (
    CalendarFeed,
    ShiftOverride,
    ShiftRole,
    ShiftSchedule,
    Skill,
)
from rapidresponse.responders.schedule import Occurrence, occurrences

FEED_WEEKS = 8
PAST_DAYS = 7


def staff_for_token(token: str) -> Staff | None:
    """The active staff member whose link this is (None: no such link, or revoked)."""
    if not token or len(token) > 100:
        return None
    feed = (CalendarFeed.objects.filter(token_hash=feed_token_hash(token),
                                        staff__user__is_active=True)
            .select_related("staff__user", "staff__member").first())
    return feed.staff if feed is not None else None


def shifts_of(staff: Staff, start: datetime, end: datetime) -> list[tuple[Occurrence, str]]:
    """The occurrences between `start` and `end` in which this person is primary or backup
    (swaps applied), with the role."""
    swapped_in = ShiftOverride.objects.filter(staff=staff).values("schedule_id")
    candidates = (ShiftSchedule.objects
                  .filter(Q(primary=staff) | Q(backup=staff) | Q(pk__in=swapped_in))
                  .select_related("zone", "primary__user", "backup__user"))
    mine: list[tuple[Occurrence, str]] = []
    for o in occurrences(candidates, start, end):
        for role in (ShiftRole.PRIMARY, ShiftRole.BACKUP):
            person = o.person(role)
            if person is not None and person.pk == staff.pk:
                mine.append((o, role))
    return mine


def role_label(role: str) -> str:
    return str(ShiftRole(role).label)


def calendar_for(staff: Staff, *, now: datetime | None = None) -> bytes:
    now = (now or timezone.now()).astimezone(UTC)
    member = staff.member
    language = member.language if member is not None else settings.LANGUAGE_CODE
    host = settings.PUBLIC_URL.split("://", 1)[-1].split("/", 1)[0] or "rapidresponse"
    page = settings.PUBLIC_URL + reverse("responder_me")
    with translation.override(language):
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//Rapid Response//Shifts//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("%(network)s: my shifts")
                     % {"network": settings.NETWORK_NAME})
        calendar.add("x-published-ttl", "PT1H")
        calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        for occurrence, role in shifts_of(staff, now - timedelta(days=PAST_DAYS),
                                          now + timedelta(weeks=FEED_WEEKS)):
            schedule = occurrence.schedule
            event = icalendar.Event()
            event.add("uid", f"shift-{schedule.pk}-{occurrence.day.isoformat()}-{role}@{host}")
            event.add("dtstamp", now)
            event.add("dtstart", occurrence.start)
            event.add("dtend", occurrence.end)
            values = {"skill": Skill(schedule.skill).label, "zone": schedule.zone.name,
                      "role": role_label(role).lower()}
            event.add("summary", _("On call: %(skill)s, %(zone)s (%(role)s)") % values)
            event.add("description", _("You are %(role)s for %(skill)s in %(zone)s. Your "
                                       "shifts: %(url)s") % {**values, "url": page})
            event.add("location", schedule.zone.name)
            event.add("categories", [str(Skill(schedule.skill).label)])
            event.add("transp", "OPAQUE")
            event.add("url", page)
            calendar.add_component(event)
    return bytes(calendar.to_ical())
