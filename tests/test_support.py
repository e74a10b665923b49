"""Family support: detentions on an incident, support cases opened with the family's
consent, who sees them, encrypted notes, partner suggestions, reminders and retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from rapidresponse.accounts.models import Role
from rapidresponse.delivery.models import Delivery
from rapidresponse.jobs.privacy import findings
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.support.models import (
    CaseNote,
    CaseStatus,
    Detention,
    Partner,
    SupportCase,
)
from rapidresponse.support.periodic import send_reminders
from tests.conftest import BOYLE, make_staff, signed_in_client
from tests.responders_support import responder
from tests.zones_support import report, two_zones


@pytest.fixture
def world(db):
    zones = two_zones()
    incident = report(BOYLE)
    dispatcher = make_staff("disp", Role.DISPATCHER, zones=[zones.boyle])
    return {"zones": zones, "incident": incident, "dispatcher": dispatcher,
            "client": signed_in_client(dispatcher.user)}


def record_detention(world, **data):
    data = {"people": "2", "detained_at": "", "notes": "taken from the bus stop", **data}
    return world["client"].post(f"/support/incidents/{world['incident'].pk}/detention/", data)


def open_case(world, **data):
    record_detention(world)
    detention = Detention.objects.get()
    data = {"consent": "on", "language": "es", "needs": ["legal", "childcare"],
            "contact": "+1 213 555 0190", **data}
    return world["client"].post(f"/support/detentions/{detention.pk}/case/", data)


def test_a_dispatcher_records_a_detention_from_the_incident_page(world):
    response = record_detention(world)
    assert response.status_code == 302
    detention = Detention.objects.get()
    assert detention.people == 2 and detention.incident == world["incident"]
    page = world["client"].get(f"/console/incidents/{world['incident'].pk}/")
    assert "taken from the bus stop" in page.content.decode()
    assert "2 people detained" in page.content.decode()


def test_a_detention_needs_a_count(world):
    assert record_detention(world, people="0").status_code == 400
    assert not Detention.objects.exists()


def test_no_case_without_the_familys_consent(world):
    response = open_case(world, consent="")
    assert response.status_code == 400
    assert "consent" in response.content.decode()
    assert not SupportCase.objects.exists()


def test_a_case_opens_with_its_needs(world):
    response = open_case(world)
    case = SupportCase.objects.get()
    assert response.status_code == 302
    assert case.needs == {"legal": "open", "childcare": "open"}
    assert case.consent_by == world["dispatcher"] and case.consent_at is not None
    assert case.zone == world["zones"].boyle and case.language == "es"
    assert "+12135550190" not in case.contact_encrypted


def test_who_sees_a_case(world):
    zones = world["zones"]
    open_case(world)
    case = SupportCase.objects.get()
    url = f"/support/{case.pk}/"
    here = responder("helper", ("family_support",), zones=[zones.boyle])
    elsewhere = responder("far", ("family_support",), zones=[zones.van_nuys])
    observer = responder("observer", ("legal_observer",), zones=[zones.boyle])
    coordinator = make_staff("coord", Role.COORDINATOR, zones=[zones.boyle])
    coordinator_far = make_staff("coord2", Role.COORDINATOR, zones=[zones.van_nuys])
    expected = {here: 200, elsewhere: 404, observer: 404, coordinator: 200,
                coordinator_far: 404, world["dispatcher"]: 404}
    for staff, status in expected.items():
        assert signed_in_client(staff.user).get(url).status_code == status, staff
    # Assigned: a volunteer of another zone sees the case too.
    case.assigned = elsewhere
    case.save()
    assert signed_in_client(elsewhere.user).get(url).status_code == 200
    assert signed_in_client(observer.user).get("/support/").status_code == 404


def test_notes_are_encrypted_in_the_database_and_readable_on_the_page(world):
    open_case(world)
    case = SupportCase.objects.get()
    coordinator = signed_in_client(make_staff("coord", Role.COORDINATOR).user)
    response = coordinator.post(f"/support/{case.pk}/note/",
                                {"note": "Bond hearing on Tuesday"})
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT text_encrypted FROM support_casenote")
        (raw,) = cursor.fetchone()
        cursor.execute("SELECT notes_encrypted FROM support_detention")
        (detention_raw,) = cursor.fetchone()
    assert "Bond" not in raw and raw
    assert "bus stop" not in detention_raw and detention_raw
    page = coordinator.get(f"/support/{case.pk}/").content.decode()
    assert "Bond hearing on Tuesday" in page
    assert "+12135550190" in page  # the family's phone, for those who see the case
    assert CaseNote.objects.count() == 1


def test_partners_are_suggested_by_need_language_and_zone(world):
    zones = world["zones"]
    open_case(world)
    case = SupportCase.objects.get()
    Partner.objects.create(name="Legal Aid Boyle", services=["legal"], languages=["es"],
                           zone=zones.boyle)
    Partner.objects.create(name="LA Childcare", services=["childcare"],
                           languages=["en", "es"], zone=zones.region)
    Partner.objects.create(name="English Only Lawyers", services=["legal"],
                           languages=["en"], zone=zones.boyle)
    Partner.objects.create(name="Van Nuys Legal", services=["legal"], languages=["es"],
                           zone=zones.van_nuys)
    Partner.objects.create(name="Bond Fund", services=["bond"], languages=["es"])
    page = signed_in_client(make_staff("coord", Role.COORDINATOR).user).get(
        f"/support/{case.pk}/").content.decode()
    suggested = page.split("Suggested partners")[1].split("</section>")[0]
    assert "Legal Aid Boyle" in suggested and "LA Childcare" in suggested
    assert "English Only Lawyers" not in suggested
    assert "Van Nuys Legal" not in suggested
    assert "Bond Fund" not in suggested  # bond is not one of this family's needs


def test_coordinators_manage_partners_of_their_zones(world):
    zones = world["zones"]
    coordinator = signed_in_client(
        make_staff("coord", Role.COORDINATOR, zones=[zones.boyle]).user)
    data = {"name": "Food bank", "services": ["rent_food"], "languages": ["es", "en"],
            "zone": str(zones.boyle.pk), "phone": "+1 323 555 0199",
            "url": "https://food.example.org"}
    assert coordinator.post("/support/partners/", data).status_code == 302
    partner = Partner.objects.get()
    assert partner.phone == "+13235550199"
    assert coordinator.post("/support/partners/",
                            {**data, "zone": str(zones.van_nuys.pk)}).status_code == 400
    volunteer = signed_in_client(responder("helper", ("family_support",),
                                           zones=[zones.boyle]).user)
    assert "Food bank" in volunteer.get("/support/partners/").content.decode()
    assert volunteer.post("/support/partners/", data).status_code == 404
    assert volunteer.get(f"/support/partners/{partner.pk}/").status_code == 404


def test_the_reminder_is_sent_once_when_due(world):
    open_case(world)
    case = SupportCase.objects.get()
    volunteer = responder("helper", ("family_support",), zones=[world["zones"].boyle],
                          phone="+13235550177", at=BOYLE)
    case.assigned = volunteer
    case.follow_up_on = timezone.localdate() + timedelta(days=1)
    case.save()
    assert send_reminders() == 0
    case.follow_up_on = timezone.localdate()
    case.save()
    assert send_reminders() == 1
    assert send_reminders() == 0
    delivery = Delivery.objects.get(member=volunteer.member, message__kind="reminder")
    text = delivery.message.bodies["en"]["text"]
    assert f"Support case #{case.pk} needs a follow-up today" in text
    assert f"/support/{case.pk}/" in text
    assert "0190" not in text and "bus stop" not in text


def test_closed_cases_are_deleted_after_the_retention_period(world, settings):
    settings.RETENTION_SUPPORT_CASE_DAYS = 90
    open_case(world)
    case = SupportCase.objects.get()
    CaseNote.objects.create(case=case, text_encrypted="x")
    SupportCase.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now() - timedelta(days=89))
    enforce_retention()
    assert SupportCase.objects.exists()
    SupportCase.objects.filter(pk=case.pk).update(
        closed_at=timezone.now() - timedelta(days=91))
    enforce_retention()
    assert not SupportCase.objects.exists() and not CaseNote.objects.exists()


def test_detention_notes_are_erased_with_incident_details(world, settings):
    record_detention(world)
    Detention.objects.update(created_at=timezone.now() - timedelta(
        days=settings.RETENTION_INCIDENT_DETAILS_DAYS + 1))
    enforce_retention()
    detention = Detention.objects.get()
    assert detention.notes_encrypted == "" and detention.people == 2


def test_no_forbidden_or_undeclared_fields(db):
    from django.apps import apps
    models = list(apps.get_app_config("support").get_models())
    assert findings(models) == []
    names = {f.name for m in models if m is not Partner for f in m._meta.concrete_fields}
    assert not {n for n in names
                if any(w in n for w in ("name", "nationality", "immigration", "status_of"))}


def test_the_case_page_is_in_spanish(world):
    open_case(world)
    case = SupportCase.objects.get()
    client = signed_in_client(make_staff("coord", Role.COORDINATOR).user)
    client.post("/i18n/setlang/", {"language": "es"})
    page = client.get(f"/support/{case.pk}/").content.decode()
    assert "Necesidades" in page and "Representación legal" in page


def test_closing_and_assigning_a_case(world):
    zones = world["zones"]
    open_case(world)
    case = SupportCase.objects.get()
    helper = responder("helper", ("family_support",), zones=[zones.boyle])
    observer = responder("observer", ("legal_observer",), zones=[zones.boyle])
    client = signed_in_client(helper.user)
    assert client.post(f"/support/{case.pk}/assign/",
                       {"assigned": observer.pk}).status_code == 400
    assert client.post(f"/support/{case.pk}/assign/", {"assigned": helper.pk}).status_code \
        == 302
    assert client.post(f"/support/{case.pk}/needs/",
                       {"need_legal": "met", "need_bond": "open"}).status_code == 302
    assert client.post(f"/support/{case.pk}/status/", {"status": "closed"}).status_code == 302
    case.refresh_from_db()
    assert case.assigned == helper and case.needs == {"legal": "met", "bond": "open"}
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert f"/support/{case.pk}/" in client.get("/support/?show=mine").content.decode()


def test_the_demo_opens_a_case_for_responder4_on_a_confirmed_incident(world):
    from rapidresponse.incidents.models import State
    from rapidresponse.web import demo_support

    incident = world["incident"]
    incident.state = State.CONFIRMED
    incident.save()
    responder("responder4", ("family_support",), zones=[world["zones"].van_nuys])
    make_staff("coordinator", Role.COORDINATOR)
    demo_support.seed_partners()
    case = demo_support.seed_case()
    assert case is not None and case.assigned.user.username == "responder4"
    assert Partner.objects.count() == 3
    assert demo_support.seed_case() is None  # once
    helper = signed_in_client(case.assigned.user)
    assert helper.get(f"/support/{case.pk}/").status_code == 200
