"""Reads shared by the console, the public pages and the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Least

from rapidresponse.accounts.access import AnyUser
from rapidresponse.alerts.actions import has_alert
from rapidresponse.alerts.compose import AlertFacts
from rapidresponse.alerts.preview import CostPreview, cost_preview
from rapidresponse.incidents.access import incidents_in_scope
from rapidresponse.incidents.models import OPEN_STATES, Incident, Report, State
from rapidresponse.incidents.transitions import next_messages
from rapidresponse.lib import geo

PUBLIC_STATES = (State.CONFIRMED,)


def with_counts(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents with their report count and what corroborations() needs."""
    return qs.select_related("zone").annotate(
        report_count=Count("reports", distinct=True),
        # Reporters: distinct keys (a phone, an email, a browser), plus reports without one.
        keyed_reporters=Count("reports__reporter_key", distinct=True,
                              filter=~Q(reports__reporter_key="")),
        anonymous_reports=Count("reports", distinct=True, filter=Q(reports__reporter_key="")),
        # Networks: distinct daily network keys, plus reports without one (texts, calls).
        keyed_networks=Count("reports__network_key", distinct=True,
                             filter=~Q(reports__network_key="")),
        unkeyed_networks=Count("reports", distinct=True, filter=Q(reports__network_key="")),
        report_cells=Count("reports__cell", distinct=True),
    ).annotate(independent=Least(F("keyed_reporters") + F("anonymous_reports"),
                                 F("keyed_networks") + F("unkeyed_networks"),
                                 F("report_cells")))


# The console's order: what waits for someone first (a new report, then one being
# verified, then a confirmed incident still going on), then what is closed.
URGENCY = Case(When(state=State.REPORTED, then=Value(0)),
               When(state=State.VERIFYING, then=Value(1)),
               When(state=State.CONFIRMED, then=Value(2)), default=Value(3))


def console_queue(user: AnyUser | None, include_closed: bool = False) -> QuerySet[Incident]:
    """The incidents of the staff member's zones, the most urgent first: by state, then the
    one that has waited longest; closed ones last, the latest closed first. The order of
    two incidents changes only when one of them changes state, so rows do not move under
    the dispatcher's pointer as reports arrive. Each carries what the latest report said of
    the place (`reported_place`), for the dispatcher to check when no cross streets are set."""
    qs = incidents_in_scope(user)
    if not include_closed:
        qs = qs.filter(state__in=OPEN_STATES)
    latest_place = (Report.objects.filter(incident=OuterRef("pk")).exclude(location_text="")
                    .order_by("-created_at", "-id").values("location_text")[:1])
    return (with_counts(qs).annotate(urgency=URGENCY, reported_place=Subquery(latest_place))
            .order_by("urgency", F("closed_at").desc(nulls_last=True), "created_at", "id"))


def public_incidents() -> QuerySet[Incident]:
    return (Incident.objects.filter(state__in=PUBLIC_STATES, is_drill=False)
            .select_related("zone").order_by("-confirmed_at", "-id"))


def corroborations(incident: Any) -> int:
    """Independent reporters of an incident (from with_counts): reports count as apart only
    when they differ in every way we can tell, so the count is the least of distinct
    reporters (phone, email or browser), distinct client networks (IPv6 /64, IPv4 /24, by a
    hash of the day) and distinct cells. Thirteen reports from one browser, or from one
    network with thirteen fresh browsers, or from thirteen phones at one spot, count once."""
    return int(getattr(incident, "independent", 0) or 0)


def public_view(incident: Incident) -> dict[str, Any]:
    """What anyone may see: coarse cell, area name, what and when. No reporter details."""
    coarse = geo.parent(incident.cell, settings.H3_PUBLIC_RESOLUTION)
    lat, lng = geo.center(coarse)
    return {
        "id": incident.pk,
        "state": incident.state,
        "activity": incident.activity,
        "agency": incident.agency,
        "area": incident.zone.name if incident.zone else "",
        "cell": geo.to_str(coarse),
        "latitude": round(lat, 3),
        "longitude": round(lng, 3),
        "first_seen_at": incident.first_seen_at,
        "confirmed_at": incident.confirmed_at,
    }


def staff_view(incident: Incident) -> dict[str, Any]:
    lat, lng = geo.center(incident.cell)
    data = public_view(incident)
    data.update({
        "cell": geo.to_str(incident.cell),
        "latitude": round(lat, 5),
        "longitude": round(lng, 5),
        "is_drill": incident.is_drill,
        "cross_streets": incident.cross_streets,
        "last_report_at": incident.last_report_at,
        "closed_at": incident.closed_at,
        "report_count": getattr(incident, "report_count", None),
        "corroboration": corroborations(incident),
        "held": incident.held,
    })
    return data


def facts_of(incident: Incident) -> AlertFacts:
    """What an alert about this incident may say: structured fields, and for the place the
    cross streets staff checked, else the zone's name."""
    return AlertFacts(
        incident_id=incident.pk, cell=incident.cell, activity=incident.activity,
        agency=incident.agency,
        place=incident.cross_streets or (incident.zone.name if incident.zone else ""),
        first_seen_at=incident.first_seen_at, is_drill=incident.is_drill)


def previews_for(incident: Incident) -> list[CostPreview]:
    """The messages this incident may send next (transitions.next_messages), each with its
    SMS cost."""
    facts = facts_of(incident)
    return [cost_preview(facts, kind)
            for kind in next_messages(incident, alerted=has_alert(incident.pk))]


def preview_of(incident: Incident, kind: str) -> CostPreview:
    """What sending `kind` (alert, all_clear or correction) about this incident now would
    say, to whom, and at what SMS cost."""
    return cost_preview(facts_of(incident), kind)


def preview_view(preview: CostPreview) -> dict[str, Any]:
    """A preview as the API gives it: the texts, the members by language and by channel,
    and the SMS cost."""
    return {
        "kind": preview.kind, "texts": preview.texts,
        "recipients": {"members": preview.members, "by_language": preview.by_language,
                       "by_channel": preview.by_channel},
        "sms": {"recipients": preview.recipients, "segments": preview.segments,
                "cost_cents": round(preview.cost_cents, 2), "cost": preview.cost,
                "by_language": [
                    {"language": r.language, "recipients": r.recipients,
                     "segments": r.segments, "encoding": r.encoding,
                     "characters": r.characters, "cost_cents": round(r.cost_cents, 2)}
                    for r in preview.rows]},
    }
