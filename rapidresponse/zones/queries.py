"""Reads about zones shared by every app: the neighbourhoods people choose from, the zone a
cell lies in, a zone's middle, the zones inside and around a zone, and the area (cells) of
the zones a staff member works in."""

from __future__ import annotations

from dataclasses import dataclass

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


def with_descendants(zone_ids: set[int] | frozenset[int]) -> frozenset[int]:
    """These zones and every zone inside them, at any depth (a region holds its
    neighbourhoods). One query: the table of zones is small."""
    children: dict[int, list[int]] = {}
    for pk, parent_id in Zone.objects.filter(parent__isnull=False).values_list("pk",
                                                                               "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    todo = list(zone_ids)
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children.get(pk, ()))
    return frozenset(found)


def with_ancestors(zone_id: int | None) -> list[int]:
    """This zone and the zones that hold it, innermost first (nothing for no zone)."""
    parents = dict(Zone.objects.values_list("pk", "parent_id"))
    found: list[int] = []
    current = zone_id
    while current is not None and current not in found:
        found.append(current)
        current = parents.get(current)
    return found


@dataclass(frozen=True)
class Area:
    """Where someone works, as places are kept: the resolution-8 cells of some zones, with
    the names of the zones (to say which they are)."""

    names: tuple[str, ...]
    cells: frozenset[int]

    def holds(self, cell: int) -> bool:
        return geo.parent(cell, settings.H3_MEMBER_RESOLUTION) in self.cells


def area_of(zone_ids: frozenset[int], named: set[int] | frozenset[int]) -> Area:
    """The cells of `zone_ids`, named by the zones of `named` (the ones a person holds)."""
    cells = frozenset(ZoneCell.objects.filter(zone_id__in=zone_ids)
                      .values_list("cell", flat=True).distinct())
    names = tuple(Zone.objects.filter(pk__in=named).order_by("name")
                  .values_list("name", flat=True))
    return Area(names=names, cells=cells)
