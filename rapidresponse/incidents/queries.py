"""Reads shared by the console, the public pages and the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from rapidresponse.incidents.models import OPEN_STATES, Incident, State
from rapidresponse.lib import geo

PUBLIC_STATES = (State.CONFIRMED,)


def with_counts(qs: QuerySet[Incident]) -> QuerySet[Incident]:
    return qs.select_related("zone").annotate(
        report_count=Count("reports", distinct=True),
        # Independent reporters: distinct keys, plus reports without a key.
        keyed_reporters=Count("reports__reporter_key", distinct=True,
                              filter=~Q(reports__reporter_key="")),
        anonymous_reports=Count("reports", distinct=True, filter=Q(reports__reporter_key="")),
    )


def console_queue(include_closed: bool = False) -> QuerySet[Incident]:
    qs = Incident.objects.all()
    if not include_closed:
        qs = qs.filter(state__in=OPEN_STATES)
    return with_counts(qs).order_by("-last_report_at", "-id")


def public_incidents() -> QuerySet[Incident]:
    return (Incident.objects.filter(state__in=PUBLIC_STATES, is_drill=False)
            .select_related("zone").order_by("-confirmed_at", "-id"))


def corroborations(incident: Any) -> int:
    return int(getattr(incident, "keyed_reporters", 0)) + int(
        getattr(incident, "anonymous_reports", 0))


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
    })
    return data
