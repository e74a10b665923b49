"""Units under the member data: encryption at rest, the blind index, and H3 geography."""

from __future__ import annotations

import math

import pytest
from cryptography.fernet import Fernet

from rapidresponse.lib import crypto, geo
from tests.conftest import BOYLE

RES = 8


def _destination(lat: float, lng: float, distance_m: float, bearing_deg: float
                 ) -> tuple[float, float]:
    """The point `distance_m` away from (lat, lng) on a great circle at this bearing."""
    radius = 6371008.8
    b = math.radians(bearing_deg)
    la, lo, d = math.radians(lat), math.radians(lng), distance_m / radius
    la2 = math.asin(math.sin(la) * math.cos(d) + math.cos(la) * math.sin(d) * math.cos(b))
    lo2 = lo + math.atan2(math.sin(b) * math.sin(d) * math.cos(la),
                          math.cos(d) - math.sin(la) * math.sin(la2))
    return math.degrees(la2), math.degrees(lo2)


# --- crypto ------------------------------------------------------------------------------


def test_encrypt_then_decrypt_gives_back_the_value():
    token = crypto.encrypt("+12135550123")
    assert crypto.decrypt(token) == "+12135550123"


def test_ciphertext_does_not_contain_the_value_and_differs_each_time():
    a, b = crypto.encrypt("+12135550123"), crypto.encrypt("+12135550123")
    assert "2135550123" not in a
    assert a != b


def test_rotated_key_still_reads_old_values_and_writes_with_the_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEY.split(",")[0]
    old_token = crypto.encrypt("maria@example.com")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{old_key}"

    assert crypto.decrypt(old_token) == "maria@example.com"
    fresh = crypto.encrypt("maria@example.com")
    # The new token is readable with the new key alone: the old key can be retired.
    settings.FIELD_ENCRYPTION_KEY = new_key
    assert crypto.decrypt(fresh) == "maria@example.com"


def test_value_under_a_retired_key_cannot_be_read(settings):
    token = crypto.encrypt("+12135550123")
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(token)


def test_blind_index_is_stable_for_the_same_contact():
    assert crypto.blind_index("sms", "+12135550123") == crypto.blind_index("sms", "+12135550123")


def test_blind_index_differs_per_kind():
    assert crypto.blind_index("sms", "x@example.com") != crypto.blind_index(
        "email", "x@example.com")


def test_blind_index_depends_on_the_secret_key(settings):
    before = crypto.blind_index("sms", "+12135550123")
    settings.BLIND_INDEX_KEY = "another-network-key"
    assert crypto.blind_index("sms", "+12135550123") != before


def test_blind_index_does_not_contain_the_value():
    index = crypto.blind_index("sms", "+12135550123")
    assert "2135550123" not in index
    assert len(index) == 64


# --- geo ---------------------------------------------------------------------------------


@pytest.mark.parametrize("radius_m", [500, 2000, 5000])
def test_rings_cover_the_whole_radius_around_the_cell(radius_m):
    """Everyone within the radius of the chosen place's cell is inside the watched cells."""
    cell = geo.cell_for(*BOYLE, RES)
    k = geo.rings_for_radius(radius_m, RES)
    watched = set(geo.disk(cell, k))
    lat, lng = geo.center(cell)
    missed = [b for b in range(0, 360, 5)
              if geo.cell_for(*_destination(lat, lng, radius_m, b), RES) not in watched]
    assert missed == []


@pytest.mark.parametrize("radius_m", [500, 2000, 5000])
def test_rings_do_not_reach_far_beyond_the_radius(radius_m):
    """Coarse, but not absurd: the farthest watched cell is within radius + 2 cells."""
    cell = geo.cell_for(*BOYLE, RES)
    k = geo.rings_for_radius(radius_m, RES)
    farthest = max(geo.distance_m(cell, c) for c in geo.disk(cell, k))
    spacing = max(geo.distance_m(cell, c) for c, d in geo.rings(cell, 1) if d == 1)
    assert farthest <= radius_m + 2 * spacing


def test_rings_grow_with_the_radius():
    counts = [geo.rings_for_radius(r, RES) for r in (500, 2000, 5000)]
    assert counts == sorted(counts)
    assert counts[0] >= 1
    assert counts[0] < counts[1] < counts[2]


@pytest.mark.parametrize("lat,lng", [
    (91.0, 0.0), (-90.5, 0.0), (0.0, 180.5), (0.0, -181.0),
    (math.nan, 0.0), (0.0, math.inf),
])
def test_invalid_latitude_or_longitude_is_rejected(lat, lng):
    with pytest.raises(geo.InvalidLocation):
        geo.cell_for(lat, lng, RES)


def test_valid_point_gives_a_resolution_8_cell():
    cell = geo.cell_for(*BOYLE, RES)
    assert geo.is_valid_cell(cell)
    assert geo.resolution(cell) == RES
