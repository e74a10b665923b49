"""The demo network: a fictional rapid-response network in Los Angeles.

Every person and phone number here is invented (555-01xx numbers are reserved for fiction).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from rapidresponse.accounts import secondfactor
from rapidresponse.accounts.actions import StaffInput, do_provision_staff
from rapidresponse.accounts.models import Role, Staff
from rapidresponse.lib import geo
from rapidresponse.members.actions import MemberInput, do_create_member, place_from_point
from rapidresponse.members.models import Member
from rapidresponse.web import demo_committees, demo_responders, demo_support
from rapidresponse.zones.models import Zone, ZoneCell

PASSWORD = "rapid-demo"
# Every demo login's authenticator secret (README: put it in an authenticator app, or run
# `python manage.py totp_code USERNAME` for the current code).
TOTP_SECRET = "RAPIDRESPONSEDEMOSECRETKEY234567"
LOGINS = ["coordinator", "coordinator2", "dispatcher", "verifier", "verifier2", "verifier3",
          "responder", *demo_responders.LOGINS]
REGION = "Los Angeles"
NETWORK_WIDE = "*"  # in WORKS_IN: the whole network, not a zone


@dataclass(frozen=True)
class DemoZone:
    name: str
    lat: float
    lng: float
    rings: int = 3


ZONES = [
    DemoZone("Boyle Heights", 34.0339, -118.2036),
    DemoZone("Westlake", 34.0580, -118.2770),
    DemoZone("Huntington Park", 33.9817, -118.2251),
    DemoZone("Van Nuys", 34.1867, -118.4490),
]


@dataclass(frozen=True)
class SampleMember:
    name: str
    language: str
    phone: str
    email: str
    lat: float
    lng: float
    radius_m: int
    zone: str
    signal: bool = False  # also gets alerts on Signal, on the same phone


# Documented in the README so a new user can follow one alert from report to phone.
SAMPLES = [
    SampleMember("María López", "es", "+12135550101", "", 34.0345, -118.2050, 1500,
                 "Boyle Heights"),
    SampleMember("Daniel Kim", "en", "+12135550102", "daniel@example.org", 34.0320, -118.2010,
                 1000, "Boyle Heights"),
    SampleMember("Rosa Hernández", "es", "+12135550103", "", 34.0575, -118.2790, 1000,
                 "Westlake", signal=True),
    SampleMember("James Carter", "en", "+18185550104", "", 34.1870, -118.4480, 1000,
                 "Van Nuys"),
]

VERIFIERS = [
    ("verifier", "Boyle Heights", "+13235550151"),
    ("verifier2", "Westlake", "+13235550152"),
    ("verifier3", "Van Nuys", "+18185550153"),
]

# Where each demo login works (README: who sees what). The coordinator runs the whole
# network; the dispatcher takes the east side; coordinator2 runs Van Nuys only, to show that
# another zone's incidents, members and messages are not there for them.
WORKS_IN: dict[str, list[str]] = {
    "coordinator": [NETWORK_WIDE],
    "coordinator2": ["Van Nuys"],
    "dispatcher": ["Boyle Heights", "Westlake", "Huntington Park"],
    **{username: [zone] for username, zone, _phone in VERIFIERS},
    **{r.username: [r.zone] for r in demo_responders.RESPONDERS},
}

FIRST = ["Ana", "Luis", "Carmen", "José", "Lucía", "Miguel", "Sofía", "Juan", "Elena", "Pedro",
         "Grace", "Tom", "Aisha", "Sam", "Linh", "David", "Maya", "Omar", "Ruth", "Kevin"]
LAST = ["García", "Martínez", "Rodríguez", "Flores", "Ramírez", "Cruz", "Nguyen", "Smith",
        "Johnson", "Lee", "Brown", "Díaz", "Reyes", "Morales", "Ortiz", "Chávez"]


def _zone_cells(z: DemoZone) -> list[int]:
    center = geo.cell_for(z.lat, z.lng, settings.H3_MEMBER_RESOLUTION)
    return geo.disk(center, z.rings)


def _zones_of(username: str) -> tuple[list[Zone], bool]:
    names = WORKS_IN[username]
    return list(Zone.objects.filter(name__in=names)), NETWORK_WIDE in names


def _create_user(username: str, role: str, zones: list[Zone] | None = None, *,
                 on_call: bool = False) -> Staff:
    """A demo login where WORKS_IN says it works (else in the zones given)."""
    if username in WORKS_IN:
        zones, network_wide = _zones_of(username)
    else:
        zones, network_wide = zones or [], False
    staff, _ = do_provision_staff(StaffInput(
        username=username, role=role, password=PASSWORD, on_call=on_call,
        totp_secret=secondfactor.parse_secret(TOTP_SECRET), zones=zones,
        network_wide=network_wide))
    return staff


def _demo_zones() -> None:
    """The demo logins work where the README says, in a demo seeded before that was so
    (coordinator2 is added when missing)."""
    for username in WORKS_IN:
        staff = Staff.objects.filter(user__username=username).first()
        if staff is None:
            if username == "coordinator2":
                _create_user(username, Role.COORDINATOR)
            continue
        zones, network_wide = _zones_of(username)
        staff.zones.set(zones)
        if staff.network_wide != network_wide:
            staff.network_wide = network_wide
            staff.save(update_fields=["network_wide"])


def _demo_authenticators() -> None:
    """A demo seeded before staff had a second factor gets the demo secret too (a login
    that has set up its own app keeps it)."""
    for user in get_user_model().objects.filter(username__in=LOGINS, staff__isnull=False):
        if not secondfactor.has_second_factor(user):
            staff = user.staff
            do_provision_staff(StaffInput(
                username=user.username, role=staff.role, password=PASSWORD,
                on_call=staff.on_call, totp_secret=secondfactor.parse_secret(TOTP_SECRET)))


def _member(name: str, language: str, phone: str, email: str, lat: float, lng: float,
            radius: int, *, extra: tuple[float, float] | None = None,
            source: str = "import", signal: bool = False) -> Member:
    places = [place_from_point(lat, lng, radius, "home")]
    if extra:
        places.append(place_from_point(extra[0], extra[1], 1000, "work"))
    contacts = {"sms": phone}
    if signal:
        contacts["signal"] = phone
    if email:
        contacts["email"] = email
    return do_create_member(MemberInput(name=name, language=language, contacts=contacts,
                                        channels=list(contacts), places=places),
                            source=source)


#: Sample members who ticked "I can come and witness peacefully" (dispatch.witnesses).
WITNESSES = ("María López", "Daniel Kim")


def _demo_witnesses() -> None:
    Member.objects.filter(name__in=WITNESSES).update(can_witness=True)


def is_seeded() -> bool:
    return Zone.objects.filter(name=REGION).exists()


@transaction.atomic
def seed(members: int = 200) -> dict[str, int]:
    if is_seeded():
        _demo_authenticators()
        _demo_zones()
        # A demo seeded before responders had profiles and shifts gets them now.
        demo_responders.seed_responders(_create_user)
        _demo_witnesses()
        demo_support.seed_partners()
        demo_support.seed_case()
        demo_committees.seed_committee()
        return {"zones": Zone.objects.count(), "members": Member.objects.count()}
    rng = random.Random(2026)
    region = Zone.objects.create(name=REGION)
    region_cells: set[int] = set()
    for z in ZONES:
        zone = Zone.objects.create(name=z.name, parent=region)
        cells = _zone_cells(z)
        region_cells.update(cells)
        ZoneCell.objects.bulk_create([ZoneCell(zone=zone, cell=c) for c in cells])
    ZoneCell.objects.bulk_create([ZoneCell(zone=region, cell=c) for c in sorted(region_cells)])

    _create_user("coordinator", Role.COORDINATOR)
    _create_user("coordinator2", Role.COORDINATOR)
    _create_user("dispatcher", Role.DISPATCHER)
    zones = {z.name: z for z in ZONES}
    for username, zone_name, phone in VERIFIERS:
        staff = _create_user(username, Role.VERIFIER, on_call=True)
        z = zones[zone_name]
        staff.member = _member(f"{username} (verifier)", "en" if username != "verifier2"
                               else "es", phone, "", z.lat, z.lng, 500, source="staff")
        staff.save()

    for s in SAMPLES:
        _member(s.name, s.language, s.phone, s.email, s.lat, s.lng, s.radius_m,
                signal=s.signal)

    count = len(SAMPLES)
    number = 200
    while count < members:
        z = ZONES[count % len(ZONES)]
        # About 1.5 km around the middle of the zone.
        lat = z.lat + rng.gauss(0, 0.012)
        lng = z.lng + rng.gauss(0, 0.014)
        language = "es" if rng.random() < 0.55 else "en"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        area = str(200 + number // 100)
        phone = f"+1{['213', '323', '818', '562'][count % 4]}555{area[-1]}{number % 100:03d}"
        number += 1
        extra = None
        if rng.random() < 0.2:
            other = rng.choice(ZONES)
            extra = (other.lat + rng.gauss(0, 0.005), other.lng + rng.gauss(0, 0.005))
        try:
            _member(name, language, phone, "", lat, lng, rng.choice([500, 1000, 1500, 2000]),
                    extra=extra)
        except Exception:  # noqa: BLE001 - an invalid generated number: try the next one
            continue
        count += 1
    demo_responders.seed_responders(_create_user)
    _demo_witnesses()
    demo_support.seed_partners()
    demo_support.seed_case()
    demo_committees.seed_committee()
    Member.objects.update(consent_at=timezone.now())
    return {"zones": Zone.objects.count(), "members": Member.objects.count()}
