"""Members: contact points normalised, encrypted and findable; places kept only as cells."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from rapidresponse.lib import geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.actions import (
    build_member_input,
    do_create_member,
    place_from_point,
)
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import ContactPoint, Member, WatchArea
from tests.conftest import BOYLE, NEAR, make_member

# A point with more decimals than any cell centre, so it can be recognised if stored.
SPOT = (34.0345127, -118.2050893)


def all_stored_text() -> str:
    """Every value of every row of every table, as text: what someone seizing the database
    would read."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview):
                        value = bytes(value)
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    chunks.append(str(value))
    return "\n".join(chunks)


def member_input(**fields):
    defaults = {"name": "Ana", "language": "es", "phone": "", "email": "",
                "places": [place_from_point(*NEAR, 1000)]}
    defaults.update(fields)
    return build_member_input(**defaults)


# --- contact points ------------------------------------------------------------------------


def test_phone_is_normalised_to_e164(db):
    member = do_create_member(member_input(phone="(213) 555-0123"), source="import")
    assert member.contacts.get(kind="sms").value == "+12135550123"


def test_email_domain_is_lower_cased(db):
    member = do_create_member(member_input(email=" Maria.Lopez@Example.COM "), source="import")
    assert member.contacts.get(kind="email").value == "Maria.Lopez@example.com"


def test_phone_that_is_not_a_number_gets_a_clear_message(db):
    with pytest.raises(InvalidInput) as exc:
        member_input(phone="call me maybe")
    assert exc.value.errors["phone"] == "This is not a phone number."


def test_phone_with_too_few_digits_gets_a_clear_message(db):
    with pytest.raises(InvalidInput) as exc:
        member_input(phone="555-0123")
    assert exc.value.errors["phone"] == "This phone number is not valid."


def test_bad_email_gets_a_clear_message(db):
    with pytest.raises(InvalidInput) as exc:
        member_input(email="maria@")
    assert exc.value.errors["email"] == "This email address is not valid."


def test_no_contact_at_all_is_refused(db):
    with pytest.raises(InvalidInput) as exc:
        member_input()
    assert exc.value.errors["phone"] == "Give a phone number or an email address."


def test_database_never_holds_the_phone_or_email_in_clear_text(db):
    make_member("Ana", "es", phone="(213) 555-0123", email="Ana.Perez@Example.com")
    with connection.cursor() as cursor:
        cursor.execute("SELECT value_encrypted, blind_index FROM members_contactpoint")
        rows = cursor.fetchall()
    assert len(rows) == 2
    stored = all_stored_text()
    for clear in ("2135550123", "555-0123", "Ana.Perez", "ana.perez", "example.com"):
        assert clear not in stored


def test_blind_index_finds_the_member_from_any_way_of_writing_the_phone(db):
    member = make_member("Ana", "es", phone="+12135550123")
    found = find_contact("sms", "213.555.0123")
    assert found is not None and found.member == member


def test_blind_index_finds_the_member_whatever_the_case_of_the_email(db):
    member = make_member("Ana", "es", email="Ana.Perez@example.com")
    found = find_contact("email", "ANA.PEREZ@EXAMPLE.COM")
    assert found is not None and found.member == member


def test_blind_index_does_not_find_someone_who_is_not_on_the_list(db):
    make_member("Ana", "es", phone="+12135550123")
    assert find_contact("sms", "+12135550124") is None


def test_the_same_phone_cannot_be_added_twice(db):
    make_member("Ana", "es", phone="+12135550123")
    with pytest.raises(InvalidInput) as exc:
        do_create_member(member_input(name="Other", phone="(213) 555-0123"), source="import")
    assert "already on the list" in exc.value.errors["contact"]
    assert Member.objects.count() == 1


# --- watch areas ---------------------------------------------------------------------------


def test_three_watch_areas_are_kept(db):
    places = [place_from_point(*NEAR, 1000, label)
              for label in ("home", "work", "school")]
    member = do_create_member(member_input(phone="+12135550123", places=places),
                              source="import")
    assert sorted(member.watch_areas.values_list("label", flat=True)) == [
        "home", "school", "work"]


def test_a_fourth_watch_area_is_refused(db):
    places = [place_from_point(*NEAR, 1000) for _ in range(4)]
    with pytest.raises(InvalidInput) as exc:
        member_input(phone="+12135550123", places=places)
    assert exc.value.errors["place"] == "At most 3 places."


def test_a_member_needs_at_least_one_place(db):
    with pytest.raises(InvalidInput) as exc:
        member_input(phone="+12135550123", places=[])
    assert exc.value.errors["place"] == "Choose a place on the map or a neighbourhood."


def test_the_chosen_spot_is_not_stored_only_its_cell_and_rings(db):
    member = do_create_member(
        member_input(phone="+12135550123", places=[place_from_point(*SPOT, 1500)]),
        source="import")
    area = WatchArea.objects.get(member=member)
    assert area.cell == geo.cell_for(*SPOT, 8)
    assert area.rings == geo.rings_for_radius(1500, 8)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM members_watcharea")
        columns = [c[0] for c in cursor.description]
        (row,) = cursor.fetchall()
    assert not any("lat" in c or "lng" in c or "lon" in c for c in columns)
    stored = all_stored_text()
    assert "34.0345127" not in stored and "118.2050893" not in stored
    # What is kept is coarse: the cell's centre is not the spot.
    assert geo.center(area.cell) != SPOT


@pytest.mark.parametrize("radius", [199, 0, -50])
def test_radius_below_the_minimum_is_refused_with_the_bounds(db, radius):
    with pytest.raises(ValidationError) as exc:
        place_from_point(*BOYLE, radius)
    assert exc.value.messages == ["The radius must be between 200 and 5000 metres."]


def test_radius_above_the_maximum_is_refused_with_the_bounds(db):
    with pytest.raises(ValidationError) as exc:
        place_from_point(*BOYLE, 5001)
    assert exc.value.messages == ["The radius must be between 200 and 5000 metres."]


def test_radius_maximum_follows_the_setting(db, settings):
    settings.MAX_WATCH_RADIUS_M = 3000
    with pytest.raises(ValidationError) as exc:
        place_from_point(*BOYLE, 4000)
    assert exc.value.messages == ["The radius must be between 200 and 3000 metres."]


@pytest.mark.parametrize("radius", ["far", "inf", "1e400", "nan"])
def test_radius_that_is_not_a_number_is_refused_with_a_message(db, radius):
    with pytest.raises(ValidationError) as exc:
        place_from_point(*BOYLE, radius)
    assert exc.value.messages == ["The radius must be a number of metres."]


def test_radius_at_the_bounds_is_accepted(db):
    assert place_from_point(*BOYLE, 200).radius_m == 200
    assert place_from_point(*BOYLE, 5000).radius_m == 5000


@pytest.mark.parametrize("lat,lng", [("91", "0"), ("north", "west"), ("", "-118.2")])
def test_place_outside_the_world_is_refused(db, lat, lng):
    with pytest.raises(ValidationError) as exc:
        place_from_point(lat, lng, 1000)
    assert exc.value.messages == ["Choose a place on the map or a neighbourhood."]


# --- language ------------------------------------------------------------------------------


def test_language_must_be_one_the_network_speaks(db):
    with pytest.raises(InvalidInput) as exc:
        member_input(phone="+12135550123", language="fr")
    assert exc.value.errors["language"] == "Choose one of these languages: en, es."


def test_language_code_is_accepted_whatever_its_case(db):
    assert member_input(phone="+12135550123", language=" ES ").language == "es"


def test_adding_a_language_to_the_settings_is_enough_to_accept_it(db, settings):
    settings.LANGUAGES = [*settings.LANGUAGES, ("fr", "French")]
    member = do_create_member(member_input(phone="+12135550123", language="fr"),
                              source="import")
    assert member.language == "fr"


def test_members_created_by_staff_are_active_with_consent_and_verified_contacts(db):
    member = do_create_member(member_input(phone="+12135550123"), source="import")
    assert member.status == Member.Status.ACTIVE
    assert member.consent_at is not None
    assert ContactPoint.objects.get(member=member).verified_at is not None
