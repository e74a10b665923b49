"""Reads about zones shared by every app: the neighbourhoods people choose from, the zone a
cell lies in, and a zone's middle."""

from __future__ import annotations

from django.conf import settings

from rapidresponse.lib import geo
from rapidresponse.zones.models import Zone, ZoneCell


def neighbourhoods() -> list[Zone]:
    """The zones people choose from: the neighbourhoods (zones inside a larger one), or
    every zone when there are no neighbourhoods."""
    return (list(Zone.objects.filter(parent__isnull=False).order_by("name"))
            or list(Zone.objects.order_by("name")))


def zone_for_cell(cell: int) -> Zone | None:
    """The most specific zone that holds this cell (of any resolution up to 8)."""
    c8 = geo.parent(cell, settings.H3_MEMBER_RESOLUTION)
    zones = [zc.zone for zc in ZoneCell.objects.filter(cell=c8).select_related("zone")]
    if not zones:
        return None
    return max(zones, key=lambda z: 1 if z.parent_id else 0)


def middle(zone: Zone) -> tuple[float, float] | None:
    """The mean of the centres of the zone's cells (None for a zone without cells)."""
    centres = [geo.center(c) for c in zone.cells.values_list("cell", flat=True)]
    if not centres:
        return None
    return (sum(c[0] for c in centres) / len(centres), sum(c[1] for c in centres) / len(centres))
