"""A fictional network in Los Angeles, generated fast, deterministic for a given seed.

Members live mostly around neighbourhood centres (a mixture of Gaussians) and partly anywhere
in a 40 km x 40 km square around downtown. Each has a home watch area and sometimes a work,
school or other one (1–3 areas, radius 500 m–5 km), an SMS contact, sometimes an email, English
or Spanish, and is mostly active, with some pending confirmation and some opted out.

Rows are written with explicit ids in batches: COPY on PostgreSQL, executemany on SQLite.
Fernet is slow for hundreds of thousands of values, so a small pool of real ciphertexts is
reused; every contact still has its own blind index (the unique look-up key).
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import h3.api.basic_int as h3i
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from rapidresponse.lib import crypto, geo
from rapidresponse.members.contacts import index_for
from rapidresponse.members.models import ContactPoint, Member, WatchArea

CENTER = (34.05, -118.25)  # downtown Los Angeles
HALF_SIDE_M = 20_000  # the city is a 40 km x 40 km square
M_PER_DEG_LAT = 111_320.0

# (name, latitude, longitude, weight, spread in metres): where members cluster.
NEIGHBOURHOODS: list[tuple[str, float, float, float, float]] = [
    ("Boyle Heights", 34.0339, -118.2036, 9, 1500),
    ("East Los Angeles", 34.0239, -118.1720, 8, 2000),
    ("Pico-Union", 34.0467, -118.2836, 6, 1200),
    ("Westlake", 34.0578, -118.2770, 6, 1200),
    ("Koreatown", 34.0618, -118.3004, 5, 1500),
    ("Downtown", 34.0407, -118.2468, 4, 1200),
    ("South Los Angeles", 33.9897, -118.2910, 8, 3000),
    ("Huntington Park", 33.9817, -118.2251, 6, 1800),
    ("Maywood and Bell", 33.9820, -118.1860, 5, 1500),
    ("Watts", 33.9416, -118.2436, 5, 1800),
    ("Lincoln Heights", 34.0690, -118.2070, 3, 1200),
    ("Highland Park", 34.1114, -118.1923, 4, 1800),
    ("Echo Park", 34.0782, -118.2606, 3, 1200),
    ("Hollywood", 34.0928, -118.3287, 3, 2000),
    ("El Sereno", 34.0800, -118.1750, 3, 1500),
    ("Montebello", 34.0165, -118.1138, 3, 2000),
    ("Inglewood", 33.9617, -118.3531, 3, 2000),
    ("Glendale", 34.1425, -118.2551, 2, 2500),
]
SPREAD_SHARE = 0.2  # members placed anywhere in the square rather than near a centre

RADII_M = [500, 800, 1000, 1500, 2000, 3000, 5000]
RADIUS_WEIGHTS = [15, 15, 25, 15, 15, 10, 5]
EXTRA_AREAS = [0, 1, 2]
EXTRA_AREA_WEIGHTS = [50, 35, 15]  # 1, 2 or 3 watch areas
SPANISH_SHARE = 0.45
PENDING_SHARE = 0.03
OPTED_OUT_SHARE = 0.02
NAMED_SHARE = 0.6
EMAIL_SHARE = 0.35
EMAIL_CHANNEL_OFF_SHARE = 0.1  # has an email but chose SMS only
SMS_DISABLED_SHARE = 0.005  # the carrier said the number is gone
EMAIL_DISABLED_SHARE = 0.01  # bounced
AREA_CODES = ["213", "323", "310", "818", "626", "562", "747"]
FIRST_NAMES = ["María", "José", "Juan", "Guadalupe", "Ana", "Luis", "Carmen", "Jesús",
               "Rosa", "Carlos", "Jennifer", "Michael", "Daniel", "Jessica", "David",
               "Ashley", "Kevin", "Stephanie", "Brian", "Elizabeth", "Tran", "Kim", "Ly"]
SOURCES = ["import", "import", "signup", "signup", "signup", "api"]
CIPHERTEXT_POOL = 32
BATCH = 20_000

MEMBER_COLUMNS = ["id", "name", "language", "status", "source", "created_at", "consent_at",
                  "opted_out_at"]
CONTACT_COLUMNS = ["id", "member_id", "kind", "value_encrypted", "blind_index", "enabled",
                   "verified_at", "disabled_at", "disabled_reason"]
WATCH_COLUMNS = ["id", "member_id", "label", "cell", "rings", "radius_m"]


@dataclass
class Generated:
    members: int = 0
    active: int = 0
    contacts: int = 0
    watch_areas: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)


@dataclass
class _Batch:
    members: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    watch_areas: list[tuple[Any, ...]] = field(default_factory=list)


class _Places:
    """Random points in the city: near a neighbourhood centre or anywhere in the square."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.weights = list(itertools.accumulate(n[3] for n in NEIGHBOURHOODS))
        self.half_lat = HALF_SIDE_M / M_PER_DEG_LAT
        self.half_lng = HALF_SIDE_M / (M_PER_DEG_LAT * math.cos(math.radians(CENTER[0])))

    def _clip(self, lat: float, lng: float) -> tuple[float, float]:
        lat = min(max(lat, CENTER[0] - self.half_lat), CENTER[0] + self.half_lat)
        lng = min(max(lng, CENTER[1] - self.half_lng), CENTER[1] + self.half_lng)
        return lat, lng

    def near(self, lat: float, lng: float, spread_m: float) -> tuple[float, float]:
        dlat = self.rng.gauss(0.0, spread_m) / M_PER_DEG_LAT
        dlng = self.rng.gauss(0.0, spread_m) / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
        return self._clip(lat + dlat, lng + dlng)

    def anywhere(self) -> tuple[float, float]:
        return (CENTER[0] + self.rng.uniform(-self.half_lat, self.half_lat),
                CENTER[1] + self.rng.uniform(-self.half_lng, self.half_lng))

    def home(self) -> tuple[float, float]:
        if self.rng.random() < SPREAD_SHARE:
            return self.anywhere()
        _name, lat, lng, _w, spread = self.rng.choices(NEIGHBOURHOODS, cum_weights=self.weights)[0]
        return self.near(lat, lng, spread)


class _Values:
    """Database-ready values: datetimes adapted once, a pool of real ciphertexts."""

    def __init__(self, now: datetime) -> None:
        adapt = connection.ops.adapt_datetimefield_value
        # One timestamp per day over two years, and the hour of the day varies by member.
        self.days = [[adapt(now - timedelta(days=d, hours=h)) for h in range(0, 24, 3)]
                     for d in range(730)]
        self.now = adapt(now)
        self.phones = [crypto.encrypt(f"+1213555{i:04d}") for i in range(CIPHERTEXT_POOL)]
        self.emails = [crypto.encrypt(f"member{i}@example.org")
                       for i in range(CIPHERTEXT_POOL)]


def _batches(size: int, seed: int, now: datetime) -> Iterator[_Batch]:
    rng = random.Random(seed)
    places = _Places(rng)
    values = _Values(now)
    res = settings.H3_MEMBER_RESOLUTION
    rings_for = {r: geo.rings_for_radius(r, res) for r in RADII_M}
    radius_weights = list(itertools.accumulate(RADIUS_WEIGHTS))
    extra_weights = list(itertools.accumulate(EXTRA_AREA_WEIGHTS))
    contact_id = 0
    watch_id = 0
    batch = _Batch()
    for member_id in range(1, size + 1):
        roll = rng.random()
        if roll < PENDING_SHARE:
            status = Member.Status.PENDING.value
        elif roll < PENDING_SHARE + OPTED_OUT_SHARE:
            status = Member.Status.OPTED_OUT.value
        else:
            status = Member.Status.ACTIVE.value
        created = rng.choice(rng.choice(values.days))
        consent = None if status == Member.Status.PENDING else created
        opted_out = values.now if status == Member.Status.OPTED_OUT else None
        name = rng.choice(FIRST_NAMES) if rng.random() < NAMED_SHARE else ""
        language = "es" if rng.random() < SPANISH_SHARE else "en"
        batch.members.append((member_id, name, language, status, rng.choice(SOURCES), created,
                              consent, opted_out))

        verified = consent  # pending members have not confirmed their code yet
        phone = f"+1{AREA_CODES[member_id % 7]}{2_000_000 + member_id // 7:07d}"
        sms_gone = rng.random() < SMS_DISABLED_SHARE
        contact_id += 1
        batch.contacts.append((
            contact_id, member_id, "sms", rng.choice(values.phones), index_for("sms", phone),
            True, verified, values.now if sms_gone else None,
            "The carrier says this number does not exist." if sms_gone else ""))
        if rng.random() < EMAIL_SHARE:
            bounced = rng.random() < EMAIL_DISABLED_SHARE
            contact_id += 1
            batch.contacts.append((
                contact_id, member_id, "email", rng.choice(values.emails),
                index_for("email", f"member{member_id}@example.org"),
                rng.random() >= EMAIL_CHANNEL_OFF_SHARE, verified,
                values.now if bounced else None, "Mailbox does not exist." if bounced else ""))

        home = places.home()
        areas = [("home", home)]
        for _ in range(rng.choices(EXTRA_AREAS, cum_weights=extra_weights)[0]):
            kind = rng.choice(["work", "work", "school", "other"])
            if kind == "school":
                areas.append((kind, places.near(home[0], home[1], 1200)))
            else:
                areas.append((kind, places.home()))
        for label, (lat, lng) in areas:
            radius = rng.choices(RADII_M, cum_weights=radius_weights)[0]
            watch_id += 1
            batch.watch_areas.append((watch_id, member_id, label, h3i.latlng_to_cell(lat, lng, res),
                                      rings_for[radius], radius))
        if len(batch.members) >= BATCH:
            yield batch
            batch = _Batch()
    if batch.members:
        yield batch


def _insert(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(columns)
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def generate(size: int, seed: int = 2) -> Generated:
    """Write `size` members with their contacts and watch areas into the current database."""
    started = time.perf_counter()
    stats = Generated()
    for batch in _batches(size, seed, timezone.now()):
        with transaction.atomic():
            _insert(Member._meta.db_table, MEMBER_COLUMNS, batch.members)
            _insert(ContactPoint._meta.db_table, CONTACT_COLUMNS, batch.contacts)
            _insert(WatchArea._meta.db_table, WATCH_COLUMNS, batch.watch_areas)
        stats.members += len(batch.members)
        stats.contacts += len(batch.contacts)
        stats.watch_areas += len(batch.watch_areas)
        for row in batch.members:
            stats.by_status[row[3]] = stats.by_status.get(row[3], 0) + 1
    stats.active = stats.by_status.get(Member.Status.ACTIVE.value, 0)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Member, ContactPoint,
                                                                  WatchArea]):
            cursor.execute(sql)
    stats.seconds = time.perf_counter() - started
    return stats
