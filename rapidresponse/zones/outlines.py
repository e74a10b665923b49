"""The outlines of the network's zones, for maps: a map with no tiles still shows where
things are (each zone's outline and name on a plain background)."""

from __future__ import annotations

from typing import Any

import h3
from django.core.cache import cache
from django.db.models import Count, Max

from rapidresponse.lib import geo
from rapidresponse.zones.models import Zone, ZoneCell

CACHE_SECONDS = 600


def _rings(cells: list[int]) -> list[list[list[float]]]:
    shape = h3.cells_to_h3shape([geo.to_str(cell) for cell in cells])
    polygons = list(shape) if isinstance(shape, h3.LatLngMultiPoly) else [shape]
    return [[[round(lat, 5), round(lng, 5)] for lat, lng in polygon.outer]
            for polygon in polygons]


def outlines() -> list[dict[str, Any]]:
    """[{"name", "rings": [[[lat, lng], ...], ...]}] for every zone with cells; cached until a
    zone's cells change."""
    state = ZoneCell.objects.aggregate(n=Count("id"), last=Max("id"))
    key = f"zones:outlines:{state['n']}:{state['last']}"
    found = cache.get(key)
    if found is not None:
        return list(found)
    cells: dict[int, list[int]] = {}
    for zone_id, cell in ZoneCell.objects.values_list("zone_id", "cell"):
        cells.setdefault(zone_id, []).append(cell)
    result = [{"name": zone.name, "rings": _rings(cells[zone.pk])}
              for zone in Zone.objects.filter(pk__in=cells).order_by("name")]
    cache.set(key, result, CACHE_SECONDS)
    return result
