"""The surge breaker: a flood of reports is held for review, never refused and never alerted.

Someone who wants to exhaust or lure responders, or to make a network cry wolf, sends many
false reports about one place (or everywhere at once), from many phones and many addresses.
Every report is still taken (a real raid also brings many reports, and none may be lost), but:

    reports in the last 10 minutes around the place (its resolution-8 cell and the six
    around it) > SURGE_CELL_REPORTS_PER_10MIN and > SURGE_BASELINE_MULTIPLE x the place's
    usual 10 minutes over the last week,
    or in the whole network > SURGE_NETWORK_REPORTS_PER_10MIN (and its baseline multiple)
        -> a Surge (one per place; it lasts until SURGE_HOLD_MINUTES after the rate fell);
           every report there is `held`, and so is its incident: the console shows a
           banner and the review queue, the incident's timeline says why, and the on-call
           dispatchers get one text per surge (through the outbox);
           a verification request about a held incident asks SURGE_VERIFIERS_PER_REQUEST
           verifiers only. Nothing reaches members until a verifier confirms, as always.

Cost: a few indexed counts per report (measured in bench: report intake).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapidresponse.accounts.models import Role, Staff
from rapidresponse.codes import actions as codes
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Kind
from rapidresponse.incidents.access import incidents_in_scope
from rapidresponse.incidents.models import UNVERIFIED_STATES, Incident, Report, Surge
from rapidresponse.lib import crypto, geo
from rapidresponse.members.models import language_codes
from rapidresponse.zones.queries import with_ancestors

WINDOW = timedelta(minutes=10)
RECOUNT = timedelta(minutes=1)
BASELINE = timedelta(days=7)
_WINDOWS_IN_BASELINE = BASELINE / WINDOW


def network_key(network: str, day: date) -> str:
    """What a report keeps of the client's network: a hash under a key of the day."""
    return crypto.daily_index("network", network, day) if network else ""


def neighbourhood(cell: int) -> tuple[int, list[int]]:
    """The resolution-8 cell of a report's cell, and the report cells (resolution 9) of it
    and its six neighbours."""
    area = geo.parent(cell, settings.H3_MEMBER_RESOLUTION)
    cells = [child for around in geo.disk(area, 1)
             for child in geo.children(around, settings.H3_REPORT_RESOLUTION)]
    return area, cells


def _over(reports: Q, fixed: int, now: datetime) -> int:
    """The reports of the last 10 minutes (this one included) when they are over the
    threshold, else 0."""
    recent = Report.objects.filter(reports, created_at__gte=now - WINDOW).count() + 1
    if recent <= fixed:
        return 0
    usual = Report.objects.filter(reports, created_at__gte=now - BASELINE,
                                  created_at__lt=now - WINDOW).count() / _WINDOWS_IN_BASELINE
    return recent if recent > settings.SURGE_BASELINE_MULTIPLE * usual else 0


def _active(now: datetime) -> Q:
    return Q(last_over_at__gte=now - timedelta(minutes=settings.SURGE_HOLD_MINUTES))


@dataclass
class Verdict:
    """The surges a new report falls in (none: it is not held)."""

    surges: list[Surge]
    started: list[Surge]

    @property
    def held(self) -> bool:
        return bool(self.surges)


def check(cell: int, now: datetime) -> Verdict:
    """Whether a report about `cell` arriving now falls in a surge (starting or extending
    one). Called inside the report's transaction, before the report is saved.

    While a surge was found over its threshold less than RECOUNT ago, reports are held
    without counting again: a flood costs one look-up a report, not four counts."""
    area, cells = neighbourhood(cell)
    around = geo.disk(area, 1)
    going_on = list(Surge.objects.filter(_active(now))
                    .filter(Q(cell__in=around) | Q(cell__isnull=True))
                    .order_by("-last_over_at"))
    verdict = Verdict([], [])
    for reports, fixed, place in (
            (Q(cell__in=cells), settings.SURGE_CELL_REPORTS_PER_10MIN, area),
            (Q(), settings.SURGE_NETWORK_REPORTS_PER_10MIN, None)):
        current = next((s for s in going_on if (s.cell is None) == (place is None)), None)
        if current is not None and current.last_over_at >= now - RECOUNT:
            Surge.objects.filter(pk=current.pk).update(held_reports=F("held_reports") + 1)
            verdict.surges.append(current)
            continue
        peak = _over(reports, fixed, now)
        if peak and current is None:
            current = Surge.objects.create(cell=place, started_at=now, last_over_at=now,
                                           peak=peak, held_reports=1)
            verdict.started.append(current)
        elif current is not None:
            changes: dict[str, Any] = {"held_reports": F("held_reports") + 1}
            if peak:
                changes.update(last_over_at=now, peak=Greatest(F("peak"), peak))
            Surge.objects.filter(pk=current.pk).update(**changes)
        if current is not None:
            verdict.surges.append(current)
    return verdict


def active_surges(now: datetime | None = None) -> list[Surge]:
    now = now or timezone.now()
    return list(Surge.objects.filter(_active(now)).order_by("-started_at"))


def console_context(request: HttpRequest) -> dict[str, Any] | None:
    """The console's surge panel: the surges going on, the review queue (held incidents of
    the zones this person works in that wait for a verifier), and whether the code-SMS
    budget is spent."""
    held = list(incidents_in_scope(request.user).filter(held=True, state__in=UNVERIFIED_STATES)
                .select_related("zone").order_by("-last_report_at")[:100])
    surges = active_surges()
    codes_held = codes.budget_spent()
    if not (held or surges or codes_held):
        return None
    return {"surges": surges, "held": held, "codes_held": codes_held,
            "code_budget": settings.CODE_SMS_PER_HOUR}


def on_call_dispatchers(incident: Incident | None) -> list[Staff]:
    """On-call dispatchers and coordinators with a phone on file, who work the incident's
    zone (every one of them for a network-wide surge)."""
    staff = Staff.objects.filter(role__in=(Role.DISPATCHER, Role.COORDINATOR), on_call=True,
                                 user__is_active=True, member__isnull=False)
    if incident is not None:
        staff = staff.filter(Q(network_wide=True)
                             | Q(zones__in=with_ancestors(incident.zone_id)))
    return list(staff.distinct().select_related("member"))


def notify(surge: Surge, incident: Incident) -> int:
    """Text the on-call dispatchers about a surge, once; not at all for a surge of the
    network while a place's surge they were told of goes on (a flood in one place that
    becomes a flood of the network is one text; the console shows both), nor for a place's
    surge during the network's. Returns how many were told."""
    now = timezone.now()
    if Surge.objects.filter(pk=surge.pk, notified_at__isnull=True).update(
            notified_at=now) == 0:
        return 0
    told = Surge.objects.filter(_active(now), notified_at__isnull=False).exclude(pk=surge.pk)
    if surge.cell is not None:
        told = told.filter(cell__isnull=True)  # everyone was told of the network's surge
    if told.exists():
        return 0
    place = incident.zone.name if incident.zone else ""
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            if surge.cell is None:
                text = _("SURGE: far more reports than usual across the network. New reports "
                         "are held for review; no alert goes out until a verifier confirms. "
                         "See the console.")
            else:
                text = _("SURGE near %(place)s (incident #%(id)s): far more reports than "
                         "usual. New reports are held for review; no alert goes out until a "
                         "verifier confirms. See the console.") % {
                             "place": place or _("an unnamed place"), "id": incident.pk}
            bodies[lang] = {"subject": _("Surge of reports"), "text": text}
    people = on_call_dispatchers(None if surge.cell is None else incident)
    for person in people:
        assert person.member is not None
        outbox.send_to_member(person.member, Kind.NOTICE, bodies, is_drill=incident.is_drill)
    return len(people)
