"""Verification: the nearest on-call verifiers are asked through the outbox, in their own
language; their findings, on the web or through the API, confirm an incident."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client

from rapidresponse.accounts.models import Staff
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Message
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_request_verification,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident, Verification, VerificationRequest
from rapidresponse.lib import geo
from tests.conftest import BOYLE, FAR, make_member, make_staff, signed_in_client

_phones = itertools.cycle(range(10, 99))  # unique within a test


def point_rings_away(k: int) -> tuple[float, float]:
    c8 = geo.cell_for(*BOYLE, 8)
    return geo.center(next(c for c, d in geo.rings(c8, k) if d == k))


def make_verifier(username: str, at: tuple[float, float], *, on_call: bool = True,
                  language: str = "en", role: str = "verifier") -> Staff:
    user = get_user_model().objects.create_user(username=username, password="correct-horse-1")
    member = make_member(username, language, phone=f"+1323555{next(_phones):04d}", at=at,
                         radius_m=500)
    return Staff.objects.create(user=user, role=role, on_call=on_call, member=member,
                                network_wide=True)


def login(staff: Staff) -> Client:
    return signed_in_client(staff.user)


def new_incident(**fields: Any) -> Incident:
    data = {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests",
            "agency": "ice", **fields}
    return do_submit_report(build_report_input(data), source="web").incident


def asked(incident: Incident) -> set[str]:
    return {r.verifier.user.username
            for r in VerificationRequest.objects.filter(incident=incident)
            .select_related("verifier__user")}


def dispatches_to(staff: Staff) -> list[ConsoleMessage]:
    return list(ConsoleMessage.objects.filter(member=staff.member))


# --- asking verifiers ----------------------------------------------------------------------


def test_an_on_call_verifier_nearby_is_asked(zone, dispatcher, verifier, deliver):
    incident = new_incident()
    requests = do_request_verification(incident, dispatcher.user)
    assert [r.verifier for r in requests] == [verifier.staff]
    assert requests[0].requested_by == dispatcher.user
    deliver()
    received = dispatches_to(verifier.staff)
    assert len(received) == 1
    assert received[0].delivery.message.kind == "dispatch"


def test_an_off_call_verifier_is_not_asked(zone, dispatcher, deliver):
    make_verifier("resting", BOYLE, on_call=False)
    on_duty = make_verifier("on_duty", point_rings_away(3))
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    deliver()
    assert asked(incident) == {"on_duty"}
    assert not ConsoleMessage.objects.filter(member__name="resting").exists()
    assert dispatches_to(on_duty)


def test_only_the_nearest_verifiers_are_asked(zone, dispatcher, settings, deliver):
    settings.VERIFIERS_PER_REQUEST = 2
    # Registered far-to-near, so that the order of creation cannot be what decides.
    farthest = make_verifier("farthest", point_rings_away(6))
    make_verifier("middle", point_rings_away(3))
    make_verifier("nearest", BOYLE)
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    deliver()
    assert asked(incident) == {"nearest", "middle"}
    assert not dispatches_to(farthest)


def test_a_verifier_in_another_city_is_not_preferred_over_a_near_one(zone, dispatcher,
                                                                    settings):
    settings.VERIFIERS_PER_REQUEST = 1
    make_verifier("van_nuys", FAR)
    make_verifier("boyle", point_rings_away(2))
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    assert asked(incident) == {"boyle"}


def test_other_roles_on_call_are_not_asked_to_verify(zone, dispatcher):
    make_verifier("dispatcher_on_call", BOYLE, role="dispatcher")
    make_verifier("responder_on_call", BOYLE, role="responder")
    make_verifier("the_verifier", point_rings_away(2))
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    assert asked(incident) == {"the_verifier"}


def test_a_deactivated_verifier_is_not_asked(zone, dispatcher):
    gone = make_verifier("gone", BOYLE)
    gone.user.is_active = False
    gone.user.save()
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    assert asked(incident) == set()


def test_the_request_goes_through_the_outbox(zone, dispatcher, verifier, deliver):
    incident = new_incident()
    request = do_request_verification(incident, dispatcher.user)[0]
    delivery = Delivery.objects.get(message=request.message)
    assert delivery.member == verifier.staff.member
    assert delivery.status == "queued"
    assert not ConsoleMessage.objects.exists()
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_the_request_carries_a_link_to_the_verify_page(zone, dispatcher, verifier, deliver,
                                                       settings):
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    deliver()
    text = dispatches_to(verifier.staff)[0].text
    assert f"{settings.PUBLIC_URL}/verify/{incident.pk}/" in text


def test_the_request_is_in_the_verifiers_language(zone, dispatcher, deliver):
    spanish = make_verifier("lupe", BOYLE, language="es")
    incident = new_incident()
    request = do_request_verification(incident, dispatcher.user)[0]
    deliver()
    received = dispatches_to(spanish)[0]
    assert received.language == "es"
    assert received.text == request.message.bodies["es"]["text"]
    assert received.text != request.message.bodies["en"]["text"]
    assert f"/verify/{incident.pk}/" in received.text


def test_the_request_never_quotes_the_reporter(zone, dispatcher, verifier, deliver):
    incident = new_incident(notes="Rumour: they took Juan Pérez from number 12",
                            location_text="behind Juan Pérez's house")
    request = do_request_verification(incident, dispatcher.user)[0]
    deliver()
    for body in request.message.bodies.values():
        assert "Juan" not in body["text"] and "Juan" not in body["subject"]
    assert "Juan" not in dispatches_to(verifier.staff)[0].text


def test_asking_again_does_not_repeat_the_message(zone, dispatcher, verifier, deliver):
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    later = make_verifier("later", point_rings_away(2))
    again = do_request_verification(incident, dispatcher.user)
    deliver()
    assert [r.verifier for r in again] == [later]
    assert len(dispatches_to(verifier.staff)) == 1
    assert len(dispatches_to(later)) == 1


def test_a_second_request_asks_the_next_people_then_says_nobody_is_left(
        zone, dispatcher, settings, deliver):
    settings.VERIFIERS_PER_REQUEST = 2
    near = [make_verifier(f"v{i}", point_rings_away(i)) for i in range(5)]
    incident = new_incident()
    rounds = [[r.verifier for r in do_request_verification(incident, dispatcher.user)]
              for _ in range(4)]
    assert rounds == [near[:2], near[2:4], near[4:], []]
    deliver()
    assert all(len(dispatches_to(v)) == 1 for v in near)


def test_a_drill_request_is_marked_as_a_drill(zone, dispatcher, verifier, deliver):
    incident = do_submit_report(build_report_input({
        "latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests",
        "is_drill": True}), source="phone", actor=dispatcher.user).incident
    request = do_request_verification(incident, dispatcher.user)[0]
    deliver()
    assert request.message.is_drill
    received = dispatches_to(verifier.staff)[0]
    assert received.is_drill
    assert received.text.startswith("[DRILL")


# --- how many verifiers must confirm --------------------------------------------------------


@pytest.fixture
def two_required(settings: Any) -> None:
    settings.VERIFICATIONS_REQUIRED = 2


def test_one_confirmation_is_enough_by_default(zone, dispatcher, verifier):
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    do_record_verification(incident, verifier.user, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "confirmed"
    assert incident.alerts.count() == 1


def test_one_confirmation_is_not_enough_when_two_are_required(zone, dispatcher, verifier,
                                                             two_required):
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    do_record_verification(incident, verifier.user, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "verifying"
    assert not Alert.objects.exists()


def test_the_same_verifier_twice_is_not_two_confirmations(zone, dispatcher, verifier,
                                                         two_required):
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    do_record_verification(incident, verifier.user, "confirmed")
    do_record_verification(incident, verifier.user, "confirmed", "still there")
    incident.refresh_from_db()
    assert incident.state == "verifying"
    assert Verification.objects.filter(incident=incident).count() == 1
    assert not Alert.objects.exists()


def test_two_distinct_verifiers_confirm(zone, dispatcher, verifier, two_required):
    second = make_verifier("second", point_rings_away(1))
    incident = new_incident()
    do_request_verification(incident, dispatcher.user)
    do_record_verification(incident, verifier.user, "confirmed")
    do_record_verification(incident, second.user, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "confirmed"
    assert Alert.objects.filter(incident=incident, kind="alert").count() == 1


def test_the_same_verifier_twice_through_the_api_is_not_enough(client, zone, dispatcher,
                                                              verifier, two_required):
    incident = new_incident()
    for _ in range(2):
        response = client.post(f"/api/v1/incidents/{incident.pk}/verification",
                               {"outcome": "confirmed"}, content_type="application/json",
                               **verifier.api())
        assert response.status_code == 200
        assert response.json()["state"] != "confirmed"


# --- recording a finding -------------------------------------------------------------------


def test_a_verifier_opens_the_verify_page(zone, verifier):
    incident = new_incident()
    page = verifier.client.get(f"/verify/{incident.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for outcome in ("confirmed", "not_ice", "false_alarm", "unverifiable"):
        assert f'value="{outcome}"' in html


def test_a_verifier_confirms_on_the_web(zone, verifier, deliver):
    incident = new_incident()
    response = verifier.client.post(f"/verify/{incident.pk}/",  # after the preview
                                    {"outcome": "confirmed", "notes": "three ICE vans",
                                     "send": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{incident.pk}/"
    incident.refresh_from_db()
    assert incident.state == "confirmed"
    finding = Verification.objects.get(incident=incident)
    assert (finding.verifier, finding.outcome, finding.notes) == (
        verifier.user, "confirmed", "three ICE vans")
    assert "Thank you" in verifier.client.get(response["Location"]).content.decode()


def test_a_verifier_records_not_ice_on_the_web(zone, verifier):
    incident = new_incident()
    verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "not_ice"})
    incident.refresh_from_db()
    assert incident.state == "not_ice"
    assert not incident.alerts.exists()


def test_the_verify_page_refuses_a_missing_outcome(zone, verifier):
    incident = new_incident()
    response = verifier.client.post(f"/verify/{incident.pk}/", {"outcome": ""})
    assert response.status_code == 400
    assert "Choose an outcome." in response.content.decode()
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_the_verify_page_refuses_notes_that_are_too_long(zone, verifier):
    incident = new_incident()
    response = verifier.client.post(f"/verify/{incident.pk}/",
                                    {"outcome": "confirmed", "notes": "x" * 2001})
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_the_verify_page_says_when_it_is_too_late(zone, verifier):
    incident = new_incident()
    other = make_staff("other_verifier", "verifier")
    do_record_verification(incident, other.user, "not_ice")
    # The verifier opened the page before the other finding was recorded.
    response = verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "confirmed"})
    assert response.status_code in (404, 409)
    incident.refresh_from_db()
    assert incident.state == "not_ice"


def test_a_verifier_confirms_through_the_api(client, zone, verifier):
    incident = new_incident()
    response = client.post(f"/api/v1/incidents/{incident.pk}/verification",
                           {"outcome": "confirmed", "notes": "agents in vests"},
                           content_type="application/json", **verifier.api())
    assert response.status_code == 200
    assert response.json() == {"incident_id": incident.pk, "state": "confirmed"}
    assert Verification.objects.get().notes == "agents in vests"


@pytest.mark.parametrize("outcome", ["not_ice", "false_alarm", "unverifiable"])
def test_a_verifier_records_other_outcomes_through_the_api(client, zone, verifier, outcome):
    incident = new_incident()
    response = client.post(f"/api/v1/incidents/{incident.pk}/verification",
                           {"outcome": outcome}, content_type="application/json",
                           **verifier.api())
    assert response.json()["state"] == outcome


def test_the_api_refuses_an_unknown_outcome(client, zone, verifier):
    incident = new_incident()
    response = client.post(f"/api/v1/incidents/{incident.pk}/verification",
                           {"outcome": "maybe"}, content_type="application/json",
                           **verifier.api())
    assert response.status_code == 400
    assert response.json()["errors"]["outcome"]
    assert not Verification.objects.exists()


def test_the_api_refuses_notes_that_are_too_long(client, zone, verifier):
    incident = new_incident()
    response = client.post(f"/api/v1/incidents/{incident.pk}/verification",
                           {"outcome": "confirmed", "notes": "x" * 2001},
                           content_type="application/json", **verifier.api())
    assert response.status_code == 400
    assert response.json()["errors"]["notes"]


def test_the_verify_page_is_not_public(zone, outsider):
    incident = new_incident()
    response = outsider.post(f"/verify/{incident.pk}/", {"outcome": "confirmed"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_a_responder_cannot_verify(zone):
    responder = make_staff("resp", "responder")
    incident = new_incident()
    response = login(responder).post(f"/verify/{incident.pk}/", {"outcome": "confirmed"})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_a_verifier_cannot_open_an_incident_they_did_not_verify_once_closed(zone, verifier):
    incident = new_incident()
    do_record_verification(incident, make_staff("other", "verifier").user, "confirmed")
    assert verifier.client.get(f"/verify/{incident.pk}/").status_code == 404


def test_the_verifier_list_shows_incidents_waiting(zone, verifier, dispatcher):
    waiting = new_incident()
    page = verifier.client.get("/verify/")
    assert page.status_code == 200
    assert f"/verify/{waiting.pk}/" in page.content.decode()


def test_verifications_are_audited(zone, verifier):
    from rapidresponse.accounts.models import AuditEntry

    incident = new_incident()
    do_record_verification(incident, verifier.user, "unverifiable", "could not get close")
    entry = AuditEntry.objects.get(action="incident.verification_recorded")
    assert entry.actor == verifier.user
    assert entry.object_id == incident.pk
    assert entry.detail["outcome"] == "unverifiable"


def test_a_finding_does_not_message_the_public_until_confirmed(zone, verifier, deliver):
    make_member("Neighbour", "en", phone="+12135550140")
    incident = new_incident()
    do_record_verification(incident, verifier.user, "unverifiable")
    deliver()
    assert not Message.objects.filter(kind="alert").exists()
    assert not ConsoleMessage.objects.filter(member__name="Neighbour").exists()


# --- two verifiers at the same moment ------------------------------------------------------


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_two_verifiers_confirming_at_the_same_moment_confirm(zone, settings):
    """The second confirmation must see the first even while it is still being written."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    settings.VERIFICATIONS_REQUIRED = 2
    first, second = make_staff("first", "verifier").user, make_staff("second", "verifier").user
    incident = new_incident()
    first_written, let_first_commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first_verifier() -> None:
        try:
            with transaction.atomic():  # the request of the first verifier, still open
                do_record_verification(Incident.objects.get(pk=incident.pk), first,
                                       "confirmed")
                first_written.set()
                let_first_commit.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            first_written.set()
        finally:
            connection.close()

    def second_verifier() -> None:
        try:
            do_record_verification(Incident.objects.get(pk=incident.pk), second, "confirmed")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    a = threading.Thread(target=first_verifier)
    a.start()
    first_written.wait(30)
    b = threading.Thread(target=second_verifier)
    b.start()
    # The first commits once the second has finished or is waiting for the first.
    for _ in range(3000):  # at most about 30 s, should something else go wrong
        if not b.is_alive() or _someone_waits_for_a_lock():
            break
        b.join(0.01)
    let_first_commit.set()
    a.join(30)
    b.join(30)
    assert errors == []
    incident.refresh_from_db()
    assert Verification.objects.filter(incident=incident, outcome="confirmed").count() == 2
    assert incident.state == "confirmed"
    assert Alert.objects.filter(incident=incident, kind="alert").count() == 1
