"""Dispatch: a dispatcher asks for N responders with a skill; the nearest who can go are
asked by SMS; the first N to say YES go and the others hear it is covered; too few YES in
time widens the radius, up to the widest, then the dispatcher hears nobody is left.
Assigned responders check in and out by the API, their phone page and SMS (English and
Spanish, through the signed webhook). Witnesses who opted in are asked for confirmed
incidents only, within a radius and a cap, and stood down when it is over."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapidresponse.accounts.models import AuditEntry, Role
from rapidresponse.channels.sms.models import Question
from rapidresponse.dispatch.actions import do_widen_due
from rapidresponse.dispatch.models import Assignment, Dispatch, WitnessAnswer
from rapidresponse.incidents.actions import (
    do_record_verification,
    do_request_verification,
    do_resolve,
)
from rapidresponse.incidents.models import Incident
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.members.models import Member
from tests import test_sms_keywords
from tests.codes_support import current
from tests.conftest import (
    BOYLE,
    FAR,
    Persona,
    api_token,
    make_member,
    make_staff,
    persona,
    sign_in,
)
from tests.responders_support import responder
from tests.sms_support import text_hotline
from tests.test_selfservice import settings_form, signed_in
from tests.test_sms_keywords import JOIN
from tests.zones_support import report, two_zones

twilio = test_sms_keywords.twilio  # the Twilio stub: SMS really sent, webhooks signed

# Places east of Boyle Heights at known distances (one degree of longitude is ~92 km here).
NEAR_1 = (34.0339, -118.2020)  # ~150 m
NEAR_2 = (34.0339, -118.1990)  # ~400 m
NEAR_3 = (34.0339, -118.1960)  # ~700 m
WIDER = (34.0339, -118.1600)  # ~4 km: outside the first radius, inside the widest
PHONES = {"ana": "+13235550161", "ben": "+13235550162", "cruz": "+13235550163",
          "dora": "+13235550164", "eva": "+13235550165"}


@pytest.fixture(autouse=True)
def radii(settings: Any) -> None:
    settings.DISPATCH_RADIUS_M = 2000
    settings.DISPATCH_MAX_RADIUS_M = 8000
    settings.DISPATCH_WIDEN_AFTER_MINUTES = 10


@pytest.fixture
def world(db: Any) -> Any:
    return two_zones()


def observer(name: str, at: tuple[float, float], zones: Any, **kwargs: Any) -> Any:
    """A legal observer of Boyle Heights; messages reach them in their first language."""
    staff = responder(name, ("legal_observer",), at=at, phone=PHONES[name],
                      zones=[zones.boyle], **kwargs)
    if kwargs.get("languages"):
        Member.objects.filter(pk=staff.member_id).update(language=kwargs["languages"][0])
    return staff


def dispatch(who: Any, incident: Incident, count: int = 1, skill: str = "legal_observer"
             ) -> int:
    r = who.client.post(f"/api/v1/incidents/{incident.pk}/dispatches",
                        {"skill": skill, "count": count}, content_type="application/json",
                        **who.api())
    assert r.status_code == 201, r.content
    return int(r.json()["id"])


def status_of(who: Any, dispatch_id: int) -> dict[str, Any]:
    r = who.client.get(f"/api/v1/dispatches/{dispatch_id}", **who.api())
    assert r.status_code == 200, r.content
    return dict(r.json())


def statuses(who: Any, dispatch_id: int) -> dict[str, str]:
    return {a["username"]: a["status"] for a in status_of(who, dispatch_id)["assignments"]}


def text(client: Any, body: str, name: str) -> str:
    return text_hotline(client, body, PHONES[name])


def timeline(incident: Incident) -> list[str]:
    return list(AuditEntry.objects.filter(object_type="incident", object_id=incident.pk)
                .values_list("action", flat=True))


@pytest.fixture
def disp(world: Any) -> Any:
    return persona("disp", Role.DISPATCHER, zones=[world.boyle])


def test_the_nearest_are_asked_and_the_first_yes_go(client, world, disp, twilio, deliver):
    ana, ben = observer("ana", NEAR_1, world), observer("ben", NEAR_2, world)
    observer("cruz", NEAR_3, world)
    observer("eva", FAR, world)  # Van Nuys: beyond the widest radius
    incident = report(BOYLE)
    dispatch_id = dispatch(disp, incident, count=2)
    deliver()
    [request] = twilio.messages_to(PHONES["ana"])
    assert "Reply YES" in request.body and "Boyle Heights" in request.body
    assert not twilio.messages_to(PHONES["eva"])
    assert statuses(disp, dispatch_id) == {"ana": "asked", "ben": "asked", "cruz": "asked"}

    assert "You are going" in text(client, "yes", "ben")
    assert "You are going" in text(client, "YES", "ana")
    assert statuses(disp, dispatch_id) == {"ana": "accepted", "ben": "accepted",
                                           "cruz": "covered"}
    assert status_of(disp, dispatch_id)["status"] == "filled"
    deliver()
    covered = twilio.messages_to(PHONES["cruz"])[-1]
    assert "COVERED" in covered.body
    # Cruz's question is closed: a late YES answers nothing.
    assert "Nothing is waiting" in text(client, "YES", "cruz")
    assert {"dispatch.requested", "dispatch.asked", "dispatch.accepted",
            "dispatch.filled"} <= set(timeline(incident))
    assert ana.pk and ben.pk


def test_spanish_speakers_are_asked_in_spanish_and_answer_si(client, world, disp, twilio,
                                                             deliver):
    observer("ana", NEAR_1, world, languages=["es"])
    incident = report(BOYLE)
    dispatch_id = dispatch(disp, incident)
    deliver()
    [request] = twilio.messages_to(PHONES["ana"])
    assert "Responda SI" in request.body  # GSM-7: accents dropped
    assert "Va usted" in text(client, "Sí", "ana")
    assert statuses(disp, dispatch_id) == {"ana": "accepted"}


def test_a_decline_asks_the_next_round_at_once(client, world, disp, twilio, deliver):
    observer("ana", NEAR_1, world)
    observer("dora", WIDER, world)
    incident = report(BOYLE)
    dispatch_id = dispatch(disp, incident)
    assert statuses(disp, dispatch_id) == {"ana": "asked"}
    assert "someone else" in text(client, "NO", "ana")
    assert statuses(disp, dispatch_id) == {"ana": "declined", "dora": "asked"}
    assert "dispatch.widened" in timeline(incident)


def test_too_few_yes_in_time_widens_the_radius(client, world, disp, twilio, deliver):
    observer("ana", NEAR_1, world)
    observer("dora", WIDER, world)
    incident = report(BOYLE)
    dispatch_id = dispatch(disp, incident)
    assert do_widen_due() == 0  # not yet: the round has time left
    Dispatch.objects.update(round_at=timezone.now() - timedelta(minutes=11))
    assert do_widen_due() == 1
    assert statuses(disp, dispatch_id) == {"ana": "asked", "dora": "asked"}
    deliver()
    assert "Reply YES" in twilio.messages_to(PHONES["dora"])[0].body
    # Whoever answers first still goes.
    assert "You are going" in text(client, "YES", "dora")
    assert status_of(disp, dispatch_id)["status"] == "filled"


def test_nobody_left_tells_the_dispatcher(client, world, twilio, deliver):
    disp = persona("disp", Role.DISPATCHER, zones=[world.boyle], at=BOYLE,
                   phone="+13235550199")
    observer("ana", NEAR_1, world)
    observer("eva", FAR, world)
    incident = report(BOYLE)
    dispatch_id = dispatch(disp, incident)
    Dispatch.objects.update(round_at=timezone.now() - timedelta(minutes=11))
    do_widen_due()
    assert status_of(disp, dispatch_id)["status"] == "exhausted"
    assert "dispatch.nobody_left" in timeline(incident)
    deliver()
    assert "nobody left" in twilio.messages_to("+13235550199")[-1].body
    # Nobody can go at all: the dispatcher hears it at once.
    second = dispatch(disp, incident, skill="interpreter")
    assert status_of(disp, second) == {**status_of(disp, second), "status": "exhausted",
                                       "assignments": []}


def test_only_current_trainings_and_the_zone_count(client, world, disp, twilio):
    observer("ana", NEAR_1, world, expired=True)
    responder("ben", ("legal_observer",), at=NEAR_2, phone=PHONES["ben"],
              zones=[world.van_nuys])
    dispatch_id = dispatch(disp, report(BOYLE))
    assert statuses(disp, dispatch_id) == {}


def test_check_in_and_out_by_the_api(client, world, disp, twilio):
    ana = observer("ana", NEAR_1, world)
    dispatch_id = dispatch(disp, report(BOYLE))
    me = persona_of(ana)
    url = f"/api/v1/dispatches/{dispatch_id}"
    r = me.client.post(url + "/check-in", **me.api())
    assert r.status_code == 409  # not accepted yet
    assert me.client.post(url + "/accept", **me.api()).json()["status"] == "accepted"
    assert me.client.post(url + "/check-in", **me.api()).json()["status"] == "checked_in"
    assert me.client.post(url + "/check-out", **me.api()).json()["status"] == "checked_out"
    assert statuses(disp, dispatch_id) == {"ana": "checked_out"}
    # The dispatcher cannot check in for someone else; they see the dispatch.
    assert disp.client.post(url + "/check-in", **disp.api()).status_code == 403


def persona_of(staff: Any) -> Persona:
    """A responder signed in on their phone, with their own API token."""
    return Persona(staff=staff, client=sign_in(Client(), staff.user),
                   token=api_token(staff.user))


def test_the_phone_page_has_buttons_that_work_without_javascript(client, world, disp, twilio):
    ana = observer("ana", NEAR_1, world)
    dispatch_id = dispatch(disp, report(BOYLE))
    me = persona_of(ana)
    page = me.client.get("/responder/").content.decode()
    assert "Your dispatches" in page and f"/responder/dispatches/{dispatch_id}/accept/" in page
    for action, status in (("accept", "accepted"), ("check-in", "checked_in"),
                           ("check-out", "checked_out")):
        r = me.client.post(f"/responder/dispatches/{dispatch_id}/{action}/")
        assert r.status_code == 302
        assert statuses(disp, dispatch_id) == {"ana": status}
    ben = observer("ben", NEAR_2, world)
    other = dispatch(disp, report(BOYLE), skill="legal_observer")
    mine = persona_of(ben)
    assert mine.client.post(f"/responder/dispatches/{other}/decline/").status_code == 302
    assert statuses(disp, other)["ben"] == "declined"


@pytest.mark.parametrize(("yes", "here", "done", "language"),
                         [("YES", "HERE", "DONE", "en"), ("SÍ", "LLEGUÉ", "LISTO", "es"),
                          ("si", "llegue", "listo", "es")])
def test_check_in_and_out_by_sms(client, world, disp, twilio, yes, here, done, language):
    observer("ana", NEAR_1, world, languages=[language])
    dispatch_id = dispatch(disp, report(BOYLE))
    text(client, yes, "ana")
    arrived = text(client, here, "ana")
    assert ("Checked in" if language == "en" else "Llegada registrada") in arrived
    assert statuses(disp, dispatch_id) == {"ana": "checked_in"}
    left = text(client, done, "ana")
    assert ("Checked out" if language == "en" else "Salida registrada") in left
    assert statuses(disp, dispatch_id) == {"ana": "checked_out"}
    assert {"dispatch.checked_in", "dispatch.checked_out"} <= set(
        timeline(Incident.objects.get()))


def test_here_with_nothing_to_check_in_to(client, world, twilio):
    observer("ana", NEAR_1, world)
    assert "no dispatch to check in to" in text(client, "HERE", "ana")


def test_another_zones_dispatch_is_not_found(client, world, disp, twilio):
    observer("ana", NEAR_1, world)
    incident = report(BOYLE)
    dispatch_id = dispatch(disp, incident)
    elsewhere = persona("vn", Role.DISPATCHER, zones=[world.van_nuys])
    assert elsewhere.client.post(f"/api/v1/incidents/{incident.pk}/dispatches",
                                 {"skill": "legal_observer", "count": 1},
                                 content_type="application/json",
                                 **elsewhere.api()).status_code == 404
    assert elsewhere.client.get(f"/api/v1/dispatches/{dispatch_id}",
                                **elsewhere.api()).status_code == 404
    assert elsewhere.client.post(f"/console/incidents/{incident.pk}/dispatches/",
                                 {"skill": "legal_observer", "count": "1"}).status_code == 404
    stranger = persona_of(observer("ben", FAR, world))
    assert stranger.client.get(f"/api/v1/dispatches/{dispatch_id}",
                               **stranger.api()).status_code == 404


def test_the_incident_page_shows_the_panel_and_dispatches_from_its_form(client, world, disp,
                                                                         twilio):
    observer("ana", NEAR_1, world)
    incident = report(BOYLE)
    r = disp.client.post(f"/console/incidents/{incident.pk}/dispatches/",
                         {"skill": "legal_observer", "count": "1"})
    assert r.status_code == 302
    text(client, "YES", "ana")
    page = disp.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert 'id="panel-dispatch"' in page and "ana: <span" in page
    assert "1 of 1 going" in page and "Responder accepted" in page
    bad = disp.client.post(f"/console/incidents/{incident.pk}/dispatches/",
                           {"skill": "juggler", "count": "0"})
    assert bad.status_code == 302 and Dispatch.objects.count() == 1


def test_resolving_stands_down_everyone_asked_or_going(client, world, disp, twilio, deliver):
    observer("ana", NEAR_1, world)
    observer("ben", NEAR_2, world)
    incident = report(BOYLE)
    checker = make_staff("checker", Role.VERIFIER)
    do_record_verification(incident, checker.user, "confirmed")
    dispatch_id = dispatch(disp, incident, count=2)
    text(client, "YES", "ana")
    do_resolve(Incident.objects.get(pk=incident.pk), disp.user)
    assert status_of(disp, dispatch_id)["status"] == "closed"
    deliver()
    assert "STAND DOWN" in twilio.messages_to(PHONES["ana"])[-1].body
    assert "STAND DOWN" in twilio.messages_to(PHONES["ben"])[-1].body


# --- witnesses ------------------------------------------------------------------------------


def witness(name: str, phone: str, at: tuple[float, float], *, opted_in: bool = True,
            language: str = "en") -> Member:
    member = make_member(name, language, phone=phone, at=at, radius_m=500)
    Member.objects.filter(pk=member.pk).update(can_witness=opted_in)
    return member


def ask_witnesses(who: Any, incident: Incident, radius_m: int, cap: int) -> Any:
    return who.client.post(f"/api/v1/incidents/{incident.pk}/witnesses",
                           {"radius_m": radius_m, "cap": cap},
                           content_type="application/json", **who.api())


def confirmed(at: tuple[float, float] = BOYLE) -> Incident:
    incident = report(at)
    checker = make_staff(f"checker{Incident.objects.count()}", Role.VERIFIER)
    do_record_verification(incident, checker.user, "confirmed")
    return Incident.objects.get(pk=incident.pk)


def test_witnesses_only_for_a_confirmed_incident(world, disp):
    witness("Wen", "+12135550171", NEAR_1)
    assert ask_witnesses(disp, report(BOYLE), 1000, 20).status_code == 409
    assert WitnessAnswer.objects.count() == 0


def test_witnesses_within_the_radius_up_to_the_cap_nearest_first(world, disp, twilio,
                                                                 deliver):
    nearest = witness("Wen", "+12135550171", NEAR_1)
    second = witness("Xochitl", "+12135550172", NEAR_2, language="es")
    witness("Yara", "+12135550173", NEAR_3)
    witness("Zed", "+12135550174", WIDER)  # outside 1 km
    witness("Nope", "+12135550175", NEAR_1, opted_in=False)
    incident = confirmed()
    r = ask_witnesses(disp, incident, 1000, 2)
    assert r.status_code == 201 and r.json()["asked"] == 2
    asked = set(WitnessAnswer.objects.values_list("member_id", flat=True))
    assert asked == {nearest.pk, second.pk}
    deliver()
    message = twilio.messages_to("+12135550171")[-1]  # after the alert
    assert "from a distance" in message.body and "never obstruct" in message.body
    assert "Reply YES" in message.body
    assert "desde lejos" in twilio.messages_to("+12135550172")[-1].body
    # Asked again: only those not asked before.
    assert ask_witnesses(disp, incident, 1000, 20).json()["asked"] == 1
    assert ask_witnesses(disp, incident, 100000, 20).status_code == 422


def test_witnesses_coming_are_counted_and_stood_down_on_resolve(client, world, disp, twilio,
                                                               deliver):
    witness("Wen", "+12135550171", NEAR_1)
    witness("Xochitl", "+12135550172", NEAR_2, language="es")
    witness("Yara", "+12135550173", NEAR_3)
    incident = confirmed()
    ask_witnesses(disp, incident, 1000, 20)
    assert "Thank you for coming" in text_hotline(client, "YES", "+12135550171")
    assert "Gracias por venir" in text_hotline(client, "sí", "+12135550172")
    text_hotline(client, "no", "+12135550173")
    page = disp.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "2 witnesses coming" in page
    deliver()
    do_resolve(incident, disp.user)
    deliver()
    assert "STAND DOWN" in twilio.messages_to("+12135550171")[-1].body
    assert "YA TERMINO" in twilio.messages_to("+12135550172")[-1].body
    assert "STAND DOWN" not in twilio.messages_to("+12135550173")[-1].body
    assert "witness.stood_down" in timeline(incident)


def test_the_witness_opt_in_is_kept_from_the_join_form_and_the_settings_page(client, world,
                                                                            inbox):
    assert 'name="can_witness"' in client.get("/join/").content.decode()
    r = client.post("/join/", {**JOIN, "can_witness": "yes"})
    assert r.status_code == 302
    member = Member.objects.get()
    assert client.post(r["Location"], {"code": current().code(member)}).status_code == 302
    member.refresh_from_db()
    assert member.can_witness and member.status == Member.Status.ACTIVE
    me = signed_in(member, contact=JOIN["phone"])
    assert re.search(r'name="can_witness" value="yes"\s+checked', me.get("/me/").content.decode())
    assert me.post("/me/save/", settings_form(member)).status_code == 302  # unticked
    member.refresh_from_db()
    assert not member.can_witness
    me.post("/me/save/", settings_form(member, can_witness="yes"))
    member.refresh_from_db()
    assert member.can_witness


# --- retention ------------------------------------------------------------------------------


def test_dispatches_are_deleted_after_the_retention_period(world, disp, twilio, settings):
    observer("ana", NEAR_1, world)
    dispatch(disp, report(BOYLE))
    enforce_retention()
    assert Assignment.objects.count() == 1
    Dispatch.objects.update(created_at=timezone.now() - timedelta(
        days=settings.RETENTION_DISPATCH_DAYS + 1))
    enforce_retention()
    assert Dispatch.objects.count() == 0 and Assignment.objects.count() == 0
    assert Question.objects.count() == 1  # the SMS question expires on its own


# --- verifiers not needed -------------------------------------------------------------------


def test_verifiers_not_needed_are_stood_down(client, world, disp, twilio, deliver):
    first = make_staff("v1", Role.VERIFIER, on_call=True, at=NEAR_1, phone="+13235550181",
                       zones=[world.boyle])
    make_staff("v2", Role.VERIFIER, on_call=True, at=NEAR_2, phone="+13235550182",
               zones=[world.boyle])
    incident = report(BOYLE)
    assert len(do_request_verification(incident, disp.user)) == 2
    do_record_verification(incident, first.user, "not_ice", "Local police, a traffic stop")
    deliver()
    assert "STAND DOWN" in twilio.messages_to("+13235550182")[-1].body
    assert "STAND DOWN" not in twilio.messages_to("+13235550181")[-1].body
    assert "Nothing is waiting" in text_hotline(client, "YES", "+13235550182")
    page = disp.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "Local police, a traffic stop" in page  # the verifier's notes
    assert "Other verifiers stood down" in page


def test_a_witness_request_that_is_not_an_object_is_refused(world, disp):
    incident = report(BOYLE)
    for body in ("[null, null]", "7", '"x"'):
        r = disp.client.post(f"/api/v1/incidents/{incident.pk}/witnesses", body,
                             content_type="application/json", **disp.api())
        assert r.status_code == 422, body
