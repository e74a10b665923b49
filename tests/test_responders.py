"""Responder profiles: who can be sent for a skill (available_responders), the responder's
own availability and languages, and the coordinators' pages, scoped by zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rapidresponse.lib import geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.responders.actions import do_set_availability, do_set_languages
from rapidresponse.responders.models import ResponderProfile, Training
from rapidresponse.responders.queries import available_responders
from rapidresponse.responders.schedule import local_day, start_of_local_day
from rapidresponse.zones.models import Zone
from tests.conftest import BOYLE, FAR, NEAR, Persona, persona, sign_in, work_in
from tests.responders_support import responder

HERE = geo.cell_for(*BOYLE, 9)
MIDWAY = (34.10, -118.33)  # between Boyle Heights and Van Nuys


def names(found):
    return [n.staff.user.username for n in found]


def test_nearest_first_and_unknown_homes_last(db):
    responder("far", at=FAR)
    responder("near", at=NEAR)
    responder("nowhere")
    responder("midway", at=MIDWAY)
    found = available_responders("legal_observer", HERE)
    assert names(found) == ["near", "midway", "far", "nowhere"]
    assert found[0].distance is not None and found[0].distance <= 1
    assert found[-1].distance is None
    assert names(available_responders("legal_observer", HERE, limit=2)) == ["near", "midway"]


def test_an_expired_training_excludes_a_responder(db):
    responder("current", at=FAR)
    responder("lapsed", at=NEAR, expired=True)
    responder("untrained", at=NEAR, trained=False)
    assert names(available_responders("legal_observer", HERE)) == ["current"]


def test_a_training_counts_to_its_last_day_and_not_before_it_was_done(db):
    staff = responder("ana", at=NEAR, trained=False)
    today = local_day(timezone.now())
    Training.objects.create(profile=staff.responder, skill="legal_observer",
                            completed_on=today - timedelta(days=10), expires_on=today)
    assert names(available_responders("legal_observer", HERE)) == ["ana"]
    tomorrow = start_of_local_day(today + timedelta(days=1)) + timedelta(hours=1)
    assert available_responders("legal_observer", HERE, at=tomorrow) == []


def test_a_training_in_another_skill_does_not_count(db):
    staff = responder("ana", ("legal_observer", "interpreter"), at=NEAR, trained=False)
    Training.objects.create(profile=staff.responder, skill="interpreter",
                            completed_on=local_day(timezone.now()))
    assert available_responders("legal_observer", HERE) == []
    assert names(available_responders("interpreter", HERE)) == ["ana"]


def test_a_skill_not_held_is_not_dispatched_even_with_a_training(db):
    staff = responder("ana", ("witness",), at=NEAR)
    Training.objects.create(profile=staff.responder, skill="legal_observer",
                            completed_on=local_day(timezone.now()))
    assert available_responders("legal_observer", HERE) == []


def test_availability_is_respected_until_the_day_they_are_back(db):
    ana = responder("ana", at=NEAR)
    responder("ben", at=FAR)
    do_set_availability(ana, "not_today")
    assert names(available_responders("legal_observer", HERE)) == ["ben"]
    tomorrow = start_of_local_day(local_day(timezone.now()) + timedelta(days=1))
    assert names(available_responders("legal_observer", HERE, at=tomorrow)) == ["ana", "ben"]
    back_on = local_day(timezone.now()) + timedelta(days=5)
    do_set_availability(ana, "away", back_on.isoformat())
    assert ana.responder.away_until == start_of_local_day(back_on)
    assert names(available_responders(
        "legal_observer", HERE, at=start_of_local_day(back_on) - timedelta(minutes=1))) \
        == ["ben"]
    do_set_availability(ana, "available")
    assert names(available_responders("legal_observer", HERE)) == ["ana", "ben"]


def test_a_switched_off_login_is_never_dispatched(db):
    ana = responder("ana", at=NEAR)
    ana.user.is_active = False
    ana.user.save()
    assert available_responders("legal_observer", HERE) == []


def test_language_and_zone_narrow_the_list(db, zone):
    other = Zone.objects.create(name="Van Nuys")
    responder("ana", at=NEAR, languages=["es", "mam"], zones=[zone])
    responder("ben", at=NEAR, languages=["en"], zones=[other])
    responder("cy", at=FAR, languages=["es"])  # not limited to any zone
    assert names(available_responders("legal_observer", HERE, language="es")) == ["ana", "cy"]
    assert names(available_responders("legal_observer", HERE, zone=zone)) == ["ana", "cy"]


def test_available_responders_is_one_query(db, django_assert_num_queries):
    for i in range(5):
        responder(f"r{i}", at=NEAR)
    with django_assert_num_queries(1):
        found = available_responders("legal_observer", HERE)
        assert [n.staff.user.username for n in found]


@pytest.mark.parametrize("choice,back_on,field", [
    ("maybe", "", "availability"),
    ("away", "", "back_on"),
    ("away", "not a date", "back_on"),
    ("away", "2000-01-01", "back_on"),
])
def test_availability_is_validated_by_the_action(db, choice, back_on, field):
    ana = responder("ana")
    with pytest.raises(InvalidInput) as exc:
        do_set_availability(ana, choice, back_on)
    assert field in exc.value.errors


def test_languages_come_from_the_list(db):
    ana = responder("ana")
    with pytest.raises(InvalidInput):
        do_set_languages(ana, ["es", "klingon"])
    assert do_set_languages(ana, ["mam", "es"]).languages == ["es", "mam"]


# --- the responder's own page --------------------------------------------------------------


@pytest.fixture
def ana(db) -> Persona:
    staff = responder("ana", at=NEAR)
    return Persona(staff=staff, client=sign_in(Client(), staff.user), token="")


def test_a_responder_sets_availability_and_languages_on_their_page(ana):
    page = ana.client.get("/responder/")
    assert page.status_code == 200
    assert "You are available." in page.content.decode()
    response = ana.client.post("/responder/availability/", {"availability": "not_today"})
    assert response.status_code == 302
    assert ResponderProfile.objects.get(staff=ana.staff).away_until is not None
    assert "You are away until" in ana.client.get("/responder/").content.decode()
    ana.client.post("/responder/languages/", {"languages": ["es", "quc"]})
    assert ResponderProfile.objects.get(staff=ana.staff).languages == ["es", "quc"]


def test_a_bad_availability_is_a_400_with_the_reason(ana):
    response = ana.client.post("/responder/availability/", {"availability": "away",
                                                            "back_on": "yesterday"})
    assert response.status_code == 400
    assert "Enter the date as YYYY-MM-DD." in response.content.decode()


def test_the_page_is_in_spanish_for_a_spanish_reader(ana):
    ana.client.cookies["django_language"] = "es"
    page = ana.client.get("/responder/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mis turnos y disponibilidad" in page
    assert "Idiomas que hablo" in page


def test_someone_not_signed_in_is_sent_to_sign_in(outsider):
    response = outsider.get("/responder/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- coordinators: profiles and trainings, scoped by zone ---------------------------------


@pytest.fixture
def zones(db):
    region = Zone.objects.create(name="Los Angeles")
    boyle = Zone.objects.create(name="Boyle Heights", parent=region)
    nuys = Zone.objects.create(name="Van Nuys", parent=region)
    return region, boyle, nuys


def coordinator_of(username, *zones_):
    p = persona(username, "coordinator")
    work_in(p.staff, *zones_)
    return p


def test_a_coordinator_manages_responders_in_their_zones(zones):
    region, boyle, nuys = zones
    ana = responder("ana", zones=[boyle])
    responder("ben", zones=[nuys])
    coord = coordinator_of("coordbh", boyle)
    page = coord.client.get("/console/responders/").content.decode()
    assert "ana" in page and "ben" not in page
    response = coord.client.post(f"/console/responders/{ana.pk}/", {
        "skills": ["legal_observer", "interpreter"], "languages": ["es"], "home": ""})
    assert response.status_code == 302
    assert sorted(ana.responder.skills.values_list("skill", flat=True)) == [
        "interpreter", "legal_observer"]
    response = coord.client.post(f"/console/responders/{ana.pk}/trainings/", {
        "skill": "interpreter", "completed_on": local_day(timezone.now()).isoformat(),
        "expires_on": ""})
    assert response.status_code == 302
    assert ana.responder.trainings.filter(skill="interpreter").exists()


def test_a_coordinator_of_another_zone_sees_404(zones):
    region, boyle, nuys = zones
    ana = responder("ana", zones=[boyle])
    training = ana.responder.trainings.first()
    coord = coordinator_of("coordvn", nuys)
    assert coord.client.get(f"/console/responders/{ana.pk}/").status_code == 404
    assert coord.client.post(f"/console/responders/{ana.pk}/trainings/", {
        "skill": "witness", "completed_on": "2026-01-01"}).status_code == 404
    assert coord.client.post(
        f"/console/responders/{ana.pk}/trainings/{training.pk}/remove/").status_code == 404
    assert Training.objects.filter(pk=training.pk).exists()


def test_a_coordinator_of_the_region_manages_its_neighbourhoods(zones):
    region, boyle, nuys = zones
    ana = responder("ana", zones=[boyle])
    coord = coordinator_of("coordla", region)
    assert coord.client.get(f"/console/responders/{ana.pk}/").status_code == 200


def test_a_dispatcher_or_responder_cannot_manage_responders(zones, dispatcher):
    ana = responder("ana")
    assert dispatcher.client.get("/console/responders/").status_code == 403
    assert dispatcher.client.get(f"/console/responders/{ana.pk}/").status_code == 403


def test_a_bad_training_is_a_400_with_a_message_per_field(zones, coordinator):
    ana = responder("ana")
    response = coordinator.client.post(f"/console/responders/{ana.pk}/trainings/", {
        "skill": "juggling", "completed_on": "2026-05-01", "expires_on": "2026-01-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a skill." in page
