"""Zones for staff: a staff member sees and acts only on their own zones (a zone covers the
zones inside it); another zone's incident, member, message, delivery, alert or conversation
answers 404, on pages and in the API; lists show only the staff member's zones, in a number
of queries that does not grow with the rows; someone with no zone sees nothing; what lies
outside every zone is for network-wide staff only."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapidresponse.accounts.models import Role
from rapidresponse.alerts.models import Alert
from rapidresponse.channels.sms.models import SmsThread, SmsThreadMessage, ThreadState
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.incidents.actions import do_record_verification, do_request_verification
from rapidresponse.incidents.models import VerificationRequest
from rapidresponse.members.models import Member
from tests.conftest import BOYLE, Persona, make_member, make_staff, persona
from tests.zones_support import OUTSIDE, VAN_NUYS, Zones, report, two_zones


@pytest.fixture
def zones(db: Any) -> Zones:
    return two_zones()


@pytest.fixture
def boyle_dispatcher(zones: Zones) -> Persona:
    return persona("boyle_disp", Role.DISPATCHER, zones=[zones.boyle])


@pytest.fixture
def boyle_coordinator(zones: Zones) -> Persona:
    return persona("boyle_coord", Role.COORDINATOR, zones=[zones.boyle])


@pytest.fixture
def van_nuys_coordinator(zones: Zones) -> Persona:
    return persona("vn_coord", Role.COORDINATOR, zones=[zones.van_nuys])


@pytest.fixture
def region_dispatcher(zones: Zones) -> Persona:
    return persona("la_disp", Role.DISPATCHER, zones=[zones.region])


@pytest.fixture
def nowhere(zones: Zones) -> Persona:
    """A dispatcher not given any zone yet."""
    return persona("no_zone", Role.DISPATCHER, zones=[])


def checker() -> Any:
    """A network-wide verifier who confirms what a test needs confirmed."""
    return make_staff("checker", Role.VERIFIER).user


def queue_ids(who: Persona) -> set[int]:
    response = who.client.get("/api/v1/incidents", {"include_closed": "true"}, **who.api())
    assert response.status_code == 200
    return {row["id"] for row in response.json()}


# --- incidents ------------------------------------------------------------------------------


def test_an_incident_belongs_to_the_neighbourhood_it_lies_in(zones):
    assert report(BOYLE).zone == zones.boyle
    assert report(VAN_NUYS).zone == zones.van_nuys
    assert report(OUTSIDE).zone is None


def test_the_console_shows_only_the_staff_members_zones(boyle_dispatcher):
    here, there = report(BOYLE), report(VAN_NUYS)
    for url in ("/console/", "/console/queue/"):
        html = boyle_dispatcher.client.get(url).content.decode()
        assert f'data-incident="{here.pk}"' in html
        assert f'data-incident="{there.pk}"' not in html
    assert queue_ids(boyle_dispatcher) == {here.pk}


def test_a_region_covers_its_neighbourhoods(region_dispatcher):
    here, there = report(BOYLE), report(VAN_NUYS)
    assert queue_ids(region_dispatcher) == {here.pk, there.pk}
    assert region_dispatcher.client.get(f"/console/incidents/{there.pk}/").status_code == 200


@pytest.mark.parametrize("path", ["/console/incidents/{id}/", "/verify/{id}/"])
def test_another_zones_incident_is_not_found_on_pages(van_nuys_coordinator, path):
    incident = report(BOYLE)
    response = van_nuys_coordinator.client.get(path.format(id=incident.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["request-verification", "resolve", "correction", "place",
                                  "outcome"])
def test_another_zones_incident_cannot_be_acted_on(van_nuys_coordinator, name):
    incident = report(BOYLE)
    response = van_nuys_coordinator.client.post(
        f"/console/incidents/{incident.pk}/{name}/",
        {"outcome": "confirmed", "send": "1", "cross_streets": "Soto St"})
    assert response.status_code == 404
    incident.refresh_from_db()
    assert (incident.state, incident.cross_streets) == ("reported", "")


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/incidents/{id}"), ("get", "/api/v1/incidents/{id}/alerts"),
    ("get", "/api/v1/incidents/{id}/preview"),
    ("post", "/api/v1/incidents/{id}/verification"),
    ("post", "/api/v1/incidents/{id}/request-verification"),
    ("post", "/api/v1/incidents/{id}/resolve"), ("post", "/api/v1/incidents/{id}/correction"),
])
def test_another_zones_incident_is_not_found_in_the_api(van_nuys_coordinator, method, path):
    incident = report(BOYLE)
    response = getattr(van_nuys_coordinator.client, method)(
        path.format(id=incident.pk), {"outcome": "confirmed"} if method == "post" else None,
        content_type="application/json", **van_nuys_coordinator.api())
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_another_zones_confirmed_incident_shows_only_what_the_public_sees(
        van_nuys_coordinator):
    incident = report(BOYLE, notes="a reporter's words")
    do_record_verification(incident, checker(), "confirmed")
    response = van_nuys_coordinator.client.get(f"/api/v1/incidents/{incident.pk}",
                                               **van_nuys_coordinator.api())
    assert response.status_code == 200
    assert "reports" not in response.json() and "a reporter" not in response.content.decode()


def test_an_incident_outside_every_zone_is_for_network_wide_staff_only(
        region_dispatcher, dispatcher):
    outside = report(OUTSIDE)
    assert region_dispatcher.client.get(f"/console/incidents/{outside.pk}/").status_code == 404
    assert outside.pk not in queue_ids(region_dispatcher)
    assert dispatcher.client.get(f"/console/incidents/{outside.pk}/").status_code == 200
    assert outside.pk in queue_ids(dispatcher)


def test_staff_with_no_zone_see_nothing(nowhere):
    incident = report(BOYLE)
    member = make_member("Ana", "es", phone="+12135550101", at=BOYLE)
    page = nowhere.client.get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="no-zone"' in html and f'data-incident="{incident.pk}"' not in html
    assert queue_ids(nowhere) == set()
    assert nowhere.client.get(f"/console/incidents/{incident.pk}/").status_code == 404
    assert nowhere.client.get(f"/console/phone/{member.pk}/").status_code == 404
    assert "None yet" in nowhere.client.get("/account/").content.decode()


# --- verification ---------------------------------------------------------------------------


def verifier_at(username: str, at: tuple[float, float], zones: list[Any]) -> Any:
    return make_staff(username, Role.VERIFIER, on_call=True, at=at,
                      phone=f"+1323555{abs(hash(username)) % 9000 + 1000}", zones=zones)


def test_verification_requests_go_to_verifiers_of_the_incidents_zone(zones, dispatcher):
    # The nearest on-call verifier works Van Nuys: not asked about Boyle Heights.
    verifier_at("vn_but_near", BOYLE, [zones.van_nuys])
    here = verifier_at("boyle", (34.045, -118.21), [zones.boyle])
    region = verifier_at("region", (34.06, -118.25), [zones.region])
    incident = report(BOYLE)
    asked = do_request_verification(incident, dispatcher.user)
    assert [r.verifier for r in asked] == [here, region]


def test_an_incident_outside_every_zone_goes_to_network_wide_verifiers(zones, dispatcher):
    verifier_at("region", OUTSIDE, [zones.region])
    everywhere = make_staff("everywhere", Role.VERIFIER, on_call=True, at=BOYLE,
                            phone="+13235550177")
    incident = report(OUTSIDE)
    assert [r.verifier for r in do_request_verification(incident, dispatcher.user)] == [
        everywhere]


def test_the_console_says_when_nobody_works_the_zone(boyle_dispatcher):
    incident = report(BOYLE)
    response = boyle_dispatcher.client.post(
        f"/console/incidents/{incident.pk}/request-verification/", follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert "Verification requested." in said
    assert any("nobody was asked" in m for m in said)


def test_a_verifier_sees_what_waits_in_their_zones_and_what_they_were_asked(zones):
    verifier = persona("boyle_veri", Role.VERIFIER, zones=[zones.boyle])
    here, there = report(BOYLE), report(VAN_NUYS)
    html = verifier.client.get("/verify/").content.decode()
    assert f"/verify/{here.pk}/" in html and f"/verify/{there.pk}/" not in html
    assert verifier.client.get(f"/verify/{there.pk}/").status_code == 404
    VerificationRequest.objects.create(incident=there, verifier=verifier.staff)
    assert f"/verify/{there.pk}/" in verifier.client.get("/verify/").content.decode()
    assert verifier.client.get(f"/verify/{there.pk}/").status_code == 200


# --- members, messages and deliveries -------------------------------------------------------


def test_the_members_page_counts_only_the_coordinators_zones(boyle_coordinator):
    make_member("Ana", "es", phone="+12135550101", at=BOYLE)
    make_member("Bo", "en", phone="+12135550102", at=BOYLE)
    make_member("Cy", "en", phone="+18185550103", at=VAN_NUYS)
    page = boyle_coordinator.client.get("/console/members/")
    assert page.status_code == 200
    assert page.context["counts"] == {"active": 2}
    assert {r["language"]: r["n"] for r in page.context["by_language"]} == {"en": 1, "es": 1}
    assert "Boyle Heights" in page.content.decode()


def test_another_zones_member_is_not_found(boyle_dispatcher):
    there = make_member("Cy", "en", phone="+18185550103", at=VAN_NUYS)
    here = make_member("Ana", "es", phone="+12135550101", at=BOYLE)
    assert boyle_dispatcher.client.get(f"/console/phone/{here.pk}/").status_code == 200
    assert boyle_dispatcher.client.get(f"/console/phone/{there.pk}/").status_code == 404


def test_the_message_log_and_dead_letters_show_only_the_zones_members(boyle_dispatcher,
                                                                       deliver):
    here = make_member("Ana", "es", phone="+12135550101", at=BOYLE)
    there = make_member("Cy", "en", phone="+18185550103", at=VAN_NUYS)
    for member in (here, there):
        outbox.send_to_member(member, "notice", {"en": {"subject": "", "text": "hello"}})
    deliver()
    html = boyle_dispatcher.client.get("/console/messages/").content.decode()
    assert f"/console/phone/{here.pk}/" in html and f"/console/phone/{there.pk}/" not in html
    Delivery.objects.update(status=Status.DEAD)
    html = boyle_dispatcher.client.get("/console/deliveries/dead/").content.decode()
    mine, theirs = (Delivery.objects.get(member=m) for m in (here, there))
    assert f'id="delivery-{mine.pk}"' in html and f'id="delivery-{theirs.pk}"' not in html
    response = boyle_dispatcher.client.post(f"/console/deliveries/{theirs.pk}/retry/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.DEAD


CSV = ("name,phone,email,language,latitude,longitude,radius_m,channels\n"
       "Ana,+12135550101,,es,34.0339,-118.2036,1000,sms\n"
       "Cy,+18185550103,,en,34.1867,-118.4490,1000,sms\n")


def test_the_csv_import_refuses_rows_outside_the_coordinators_zones(boyle_coordinator):
    page = boyle_coordinator.client.post("/console/members/", {
        "file": SimpleUploadedFile("m.csv", CSV.encode(), content_type="text/csv")})
    assert page.status_code == 200
    result = page.context["result"]
    assert len(result.created) == 1
    assert result.errors == [(3, "place: This place lies outside the zones you work in "
                                 "(Boyle Heights).")]
    assert list(Member.objects.values_list("name", flat=True)) == ["Ana"]


def test_the_csv_import_refuses_in_spanish(boyle_coordinator):
    page = boyle_coordinator.client.post("/console/members/", {
        "file": SimpleUploadedFile("m.csv", CSV.encode(), content_type="text/csv")},
        HTTP_ACCEPT_LANGUAGE="es")
    assert "fuera de las zonas" in page.content.decode()


def test_a_network_wide_coordinator_imports_anywhere(coordinator, zones):
    page = coordinator.client.post("/console/members/", {
        "file": SimpleUploadedFile("m.csv", CSV.encode(), content_type="text/csv")})
    assert len(page.context["result"].created) == 2


def test_the_api_refuses_a_member_outside_the_coordinators_zones(boyle_coordinator):
    body = {"name": "Cy", "phone": "+18185550103", "latitude": VAN_NUYS[0],
            "longitude": VAN_NUYS[1], "channels": ["sms"]}
    response = boyle_coordinator.client.post("/api/v1/members", body,
                                             content_type="application/json",
                                             **boyle_coordinator.api())
    assert response.status_code == 400
    assert "outside the zones you work in" in response.json()["errors"]["place"]
    body.update(latitude=BOYLE[0], longitude=BOYLE[1])
    response = boyle_coordinator.client.post("/api/v1/members", body,
                                             content_type="application/json",
                                             **boyle_coordinator.api())
    assert response.status_code == 201


def test_what_we_hold_is_for_network_wide_coordinators(boyle_coordinator, coordinator):
    assert boyle_coordinator.client.get("/console/privacy/").status_code == 403
    assert coordinator.client.get("/console/privacy/").status_code == 200


# --- alerts ---------------------------------------------------------------------------------


def drill_alert(dispatcher_user: Any) -> Alert:
    incident = report(BOYLE, source="phone", actor=dispatcher_user, is_drill=True)
    make_member("Ana", "es", phone="+12135550101", at=BOYLE)
    do_record_verification(incident, checker(), "confirmed")
    return Alert.objects.get(incident=incident)


def test_a_drill_alerts_cap_is_for_staff_of_its_zone(boyle_dispatcher, van_nuys_coordinator,
                                                    outsider):
    alert = drill_alert(boyle_dispatcher.user)
    assert boyle_dispatcher.client.get(f"/alerts/{alert.pk}.cap").status_code == 200
    assert van_nuys_coordinator.client.get(f"/alerts/{alert.pk}.cap").status_code == 404
    assert outsider.get(f"/alerts/{alert.pk}.cap", **van_nuys_coordinator.api()
                        ).status_code == 404
    assert outsider.get(f"/alerts/{alert.pk}.cap", **boyle_dispatcher.api()).status_code == 200
    assert outsider.get(f"/alerts/{alert.pk}.cap").status_code == 404
    feed = f"/alerts/{alert.pk}.cap"
    assert feed in boyle_dispatcher.client.get("/feeds/alerts.atom").content.decode()
    assert feed not in van_nuys_coordinator.client.get("/feeds/alerts.atom").content.decode()


def test_another_zones_alert_deliveries_are_not_found(boyle_dispatcher, van_nuys_coordinator):
    alert = drill_alert(boyle_dispatcher.user)
    url = f"/api/v1/alerts/{alert.pk}/deliveries"
    assert van_nuys_coordinator.client.get(url, **van_nuys_coordinator.api()
                                           ).status_code == 404
    response = boyle_dispatcher.client.get(url, **boyle_dispatcher.api())
    assert response.status_code == 200 and response.json()["total"] == 1


# --- SMS conversations ----------------------------------------------------------------------


def thread(state: str = ThreadState.IDLE, **fields: Any) -> SmsThread:
    made = SmsThread.objects.create(blind_index=f"index-{SmsThread.objects.count()}",
                                    state=state, **fields)
    SmsThreadMessage.objects.create(thread=made, direction="in", text="help")
    return made


def test_a_conversation_nobody_has_placed_is_every_dispatchers(boyle_dispatcher,
                                                              van_nuys_coordinator, nowhere):
    unplaced = thread(ThreadState.UNPLACED)
    for who in (boyle_dispatcher, van_nuys_coordinator):
        assert who.client.get(f"/console/sms/{unplaced.pk}/").status_code == 200
        assert f"/console/sms/{unplaced.pk}/" in who.client.get("/console/").content.decode()
    assert nowhere.client.get(f"/console/sms/{unplaced.pk}/").status_code == 404


def test_a_conversation_is_where_its_report_is(zones, boyle_dispatcher, van_nuys_coordinator):
    named_van_nuys = thread(ThreadState.WHAT, draft_zone=zones.van_nuys)
    filed_in_boyle = thread(report=report(BOYLE).reports.get())
    assert boyle_dispatcher.client.get(f"/console/sms/{named_van_nuys.pk}/").status_code == 404
    assert boyle_dispatcher.client.get(f"/console/sms/{filed_in_boyle.pk}/").status_code == 200
    assert van_nuys_coordinator.client.get(f"/console/sms/{named_van_nuys.pk}/"
                                           ).status_code == 200
    for action in ("reply", "file", "close"):
        assert van_nuys_coordinator.client.post(
            f"/console/sms/{filed_in_boyle.pk}/{action}/", {"text": "hi"}).status_code == 404
    html = boyle_dispatcher.client.get("/console/").content.decode()
    assert f"/console/sms/{filed_in_boyle.pk}/" in html
    assert f"/console/sms/{named_van_nuys.pk}/" not in html


def test_a_dispatcher_places_a_conversation_in_their_zones(zones, boyle_dispatcher):
    unplaced = thread(ThreadState.UNPLACED)
    offered = boyle_dispatcher.client.get(f"/console/sms/{unplaced.pk}/").context["zones"]
    assert offered == [zones.boyle]


# --- lists: the number of queries does not grow with the rows -------------------------------


def queries_for(who: Persona, url: str, **extra: Any) -> int:
    # A first request writes down that the session and the token are in use (at most once a
    # minute, and filling the lists can take longer): the second is the one counted.
    who.client.get(url, **extra)
    with CaptureQueriesContext(connection) as captured:
        response = who.client.get(url, **extra)
    assert response.status_code == 200, url
    return len(captured)


def fill(n: int, start: int) -> None:
    """n incidents, members, messages, dead deliveries and conversations in each zone."""
    for i in range(start, start + n):
        for k, base in enumerate((BOYLE, VAN_NUYS)):
            at = (base[0] + (i % 3) * 0.004, base[1] + (i // 3) * 0.004)
            incident = report(at, contact=f"+1213555{1000 + i * 2 + k}")
            member = make_member(f"m{i}-{k}", "en", phone=f"+1818555{2000 + i * 2 + k}", at=at)
            outbox.send_to_member(member, "notice", {"en": {"subject": "", "text": "hi"}})
            thread(report=incident.reports.first())
    outbox.drain()
    Delivery.objects.update(status=Status.DEAD)


LISTS = ["/console/", "/console/queue/", "/verify/", "/console/messages/",
         "/console/deliveries/dead/", "/console/members/", "/feeds/alerts.atom"]


@pytest.mark.parametrize("url", LISTS)
def test_a_zone_list_takes_the_same_queries_for_more_rows(boyle_coordinator, url):
    fill(2, 0)
    few = queries_for(boyle_coordinator, url)
    fill(4, 2)
    assert queries_for(boyle_coordinator, url) == few


def test_the_api_lists_take_the_same_queries_for_more_rows(boyle_coordinator):
    fill(2, 0)
    incident = report(BOYLE, source="phone", actor=make_staff("typist", Role.DISPATCHER).user,
                      is_drill=True)
    do_record_verification(incident, checker(), "confirmed")
    alert = Alert.objects.get(incident=incident)
    urls = ["/api/v1/incidents", f"/api/v1/alerts/{alert.pk}/deliveries"]
    few = [queries_for(boyle_coordinator, u, **boyle_coordinator.api()) for u in urls]
    fill(4, 2)
    assert [queries_for(boyle_coordinator, u, **boyle_coordinator.api()) for u in urls] == few
