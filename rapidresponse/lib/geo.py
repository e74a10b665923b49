"""Geography as H3 cells: coarse, indexable integers that work the same on every database."""

from __future__ import annotations

import math
from collections.abc import Iterable

import h3

# Average distance between the centres of neighbouring cells, in metres, per resolution.
_EDGE_M = {r: h3.average_hexagon_edge_length(r, unit="m") for r in range(0, 16)}


class InvalidLocation(ValueError):
    pass


def validate_latlng(lat: float, lng: float) -> tuple[float, float]:
    if not (math.isfinite(lat) and math.isfinite(lng)):
        raise InvalidLocation("not a number")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidLocation("out of range")
    return lat, lng


def cell_for(lat: float, lng: float, resolution: int) -> int:
    validate_latlng(lat, lng)
    return h3.str_to_int(h3.latlng_to_cell(lat, lng, resolution))


def to_str(cell: int) -> str:
    return h3.int_to_str(cell)


def is_valid_cell(cell: int) -> bool:
    try:
        return bool(h3.is_valid_cell(h3.int_to_str(cell)))
    except (ValueError, TypeError):
        return False


def resolution(cell: int) -> int:
    return int(h3.get_resolution(to_str(cell)))


def parent(cell: int, res: int) -> int:
    if resolution(cell) <= res:
        return cell
    return h3.str_to_int(h3.cell_to_parent(to_str(cell), res))


def center(cell: int) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(to_str(cell))
    return float(lat), float(lng)


def rings_for_radius(radius_m: float, res: int) -> int:
    """How many rings of cells around a centre cell cover a circle of this radius.

    A disk of k rings is a hexagon of cells whose nearest edge lies k * s * sqrt(3)/2 + s/2
    from the centre (s: distance between neighbouring centres): that must reach the radius.
    """
    spacing = _EDGE_M[res] * math.sqrt(3)
    return max(0, math.ceil((radius_m / spacing - 0.5) / (math.sqrt(3) / 2)))


def disk(cell: int, k: int) -> list[int]:
    return [h3.str_to_int(c) for c in h3.grid_disk(to_str(cell), k)]


def children(cell: int, res: int) -> list[int]:
    """The cells of resolution `res` inside `cell`."""
    return [h3.str_to_int(c) for c in h3.cell_to_children(to_str(cell), res)]


def rings(cell: int, k: int) -> Iterable[tuple[int, int]]:
    """(cell, distance) for every cell within k rings of the centre."""
    origin = to_str(cell)
    for d in range(k + 1):
        for c in h3.grid_ring(origin, d):
            yield h3.str_to_int(c), d


def grid_distance(a: int, b: int) -> int | None:
    try:
        return int(h3.grid_distance(to_str(a), to_str(b)))
    except Exception:  # noqa: BLE001 - h3 raises several types for far-apart cells
        return None


def boundary(cell: int) -> list[tuple[float, float]]:
    return [(float(lat), float(lng)) for lat, lng in h3.cell_to_boundary(to_str(cell))]


def distance_m(a: int, b: int) -> float:
    return float(h3.great_circle_distance(center(a), center(b), unit="m"))
