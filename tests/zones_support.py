"""A network with two neighbourhoods in one region, for the tests of zones: Boyle Heights
(BOYLE) and Van Nuys (FAR, about 30 km away) inside Los Angeles, and places outside every
zone (San Diego)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapidresponse.incidents.actions import build_report_input, do_submit_report
from rapidresponse.incidents.models import Incident
from rapidresponse.lib import geo
from rapidresponse.zones.models import Zone, ZoneCell
from tests.conftest import BOYLE, FAR

VAN_NUYS = FAR
OUTSIDE = (32.7157, -117.1611)  # San Diego: no zone of this network


@dataclass
class Zones:
    region: Zone
    boyle: Zone
    van_nuys: Zone


def two_zones() -> Zones:
    region = Zone.objects.create(name="Los Angeles")
    boyle = Zone.objects.create(name="Boyle Heights", parent=region)
    van_nuys = Zone.objects.create(name="Van Nuys", parent=region)
    rows = []
    for zone, at in ((boyle, BOYLE), (van_nuys, VAN_NUYS)):
        for cell in geo.disk(geo.cell_for(*at, 8), 3):
            rows += [ZoneCell(zone=zone, cell=cell), ZoneCell(zone=region, cell=cell)]
    ZoneCell.objects.bulk_create(rows)
    return Zones(region=region, boyle=boyle, van_nuys=van_nuys)


def report(at: tuple[float, float] = BOYLE, *, source: str = "web", actor: Any = None,
           **fields: Any) -> Incident:
    data = {"latitude": at[0], "longitude": at[1], "activity": "arrests", "agency": "ice",
            **fields}
    return do_submit_report(build_report_input(data), source=source, actor=actor).incident
