"""Block committees: zone scoping, joining (public page and /me/, SMS, staff), roles, the
versioned response plan (author kept, print page, sent on request, PLAN by SMS), the
captains' reminder when an alert is confirmed in the area, member tags by CSV, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from rapidresponse.accounts.models import Role as StaffRole
from rapidresponse.committees.models import Committee, CommitteeMember, PlanVersion, Role
from rapidresponse.delivery.models import Delivery, Message
from rapidresponse.incidents.actions import do_record_verification
from rapidresponse.jobs.privacy import findings
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.members.actions import do_opt_out, import_members_csv
from rapidresponse.members.models import Member, Tag
from tests.codes_support import current
from tests.conftest import BOYLE, FAR, api_token, make_member, make_staff, signed_in_client
from tests.sms_support import text_hotline
from tests.stubs.twilio_stub import serve_for
from tests.zones_support import report, two_zones

MARIA = "+12135550101"
JOSE = "+12135550102"
PLAN = {"hotline_caller": "Rosa", "meeting_point": "Hollenbeck Park gazebo",
        "public_place": "on", "observers": "Tito and Lupe",
        "neighbour_checks": "Rosa checks on Doña Carmen", "pickup_backups": "Lupe for Sofi",
        "phone_tree": "Rosa\nTito\nLupe", "materials": "Red cards",
        "material_languages": ["en", "es"]}


@pytest.fixture
def world(db):
    zones = two_zones()
    coordinator = make_staff("coord", StaffRole.COORDINATOR, zones=[zones.boyle])
    client = signed_in_client(coordinator.user)
    response = client.post("/committees/", {"name": "Calle Soto block", "zone": zones.boyle.pk,
                                            "languages": ["en", "es"]})
    assert response.status_code == 302
    committee = Committee.objects.get()
    assert client.post(f"/committees/{committee.pk}/area/", {
        "latitude": BOYLE[0], "longitude": BOYLE[1], "radius_m": "800"}).status_code == 302
    maria = make_member("María", "es", phone=MARIA, at=BOYLE)
    jose = make_member("José", "en", phone=JOSE, at=BOYLE)
    return {"zones": zones, "coordinator": coordinator, "client": client,
            "committee": committee, "maria": maria, "jose": jose}


@pytest.fixture
def twilio(settings):
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "sms": 1000}
    yield from serve_for(settings)


def member_client(member: Member, phone: str) -> Client:
    client = Client()
    client.post("/me/", {"contact": phone})
    response = client.post("/me/code/", {"contact": phone, "code": current().code(member)})
    assert response.status_code == 302
    return client


def test_committees_of_another_zone_do_not_exist_for_its_staff(world):
    other = make_staff("vn", StaffRole.COORDINATOR, zones=[world["zones"].van_nuys])
    client = signed_in_client(other.user)
    pk = world["committee"].pk
    assert client.get(f"/committees/{pk}/").status_code == 404
    assert client.get(f"/committees/{pk}/plan/print/").status_code == 404
    assert "Calle Soto block" not in client.get("/committees/").content.decode()
    assert world["client"].get(f"/committees/{pk}/").status_code == 200
    verifier = make_staff("veri", StaffRole.VERIFIER, zones=[world["zones"].boyle])
    assert signed_in_client(verifier.user).get(f"/committees/{pk}/").status_code == 404


def test_the_area_is_cells_of_the_zone_only(world):
    committee = world["committee"]
    assert committee.cells.count() > 1
    response = world["client"].post(f"/committees/{committee.pk}/area/", {
        "latitude": FAR[0], "longitude": FAR[1], "radius_m": "800"})
    assert response.status_code == 400
    assert "outside the committee" in response.content.decode()


@pytest.mark.usefixtures("inbox")
def test_a_member_joins_from_the_public_page_and_leaves_on_me(world):
    committee = world["committee"]
    public = Client().get(f"/c/{committee.code}/").content.decode()
    assert "Calle Soto block" in public and "María" not in public
    client = member_client(world["maria"], MARIA)
    page = client.get(f"/me/committees/?join={committee.code}").content.decode()
    assert "Join this committee" in page or "Unirme" in page
    assert client.post(f"/me/committees/{committee.code}/join/").status_code == 302
    row = CommitteeMember.objects.get(committee=committee, member=world["maria"])
    assert row.role == Role.MEMBER
    assert client.post(f"/me/committees/{committee.code}/leave/").status_code == 302
    assert not CommitteeMember.objects.filter(member=world["maria"]).exists()


def test_joining_needs_a_signed_in_member(world):
    code = world["committee"].code
    assert Client().post(f"/me/committees/{code}/join/").status_code == 403
    assert not CommitteeMember.objects.exists()


@pytest.mark.usefixtures("inbox")
def test_me_lists_the_committees_of_the_members_zone(world):
    far = make_member("Far", "en", phone="+12135550109", at=FAR)
    near_page = member_client(world["maria"], MARIA).get("/me/committees/").content.decode()
    assert "Calle Soto block" in near_page
    far_page = member_client(far, "+12135550109").get("/me/committees/").content.decode()
    assert "Calle Soto block" not in far_page


def test_join_by_sms_in_english_and_spanish(world, client, twilio):
    code = world["committee"].code
    reply = text_hotline(client, f"JOIN {code.lower()}", JOSE)
    assert "Calle Soto block" in reply and "PLAN" in reply
    reply = text_hotline(client, f"Unirme {code}", MARIA)
    assert "Calle Soto block" in reply and "Estas en" in reply  # SMS in plain GSM letters
    assert CommitteeMember.objects.filter(committee=world["committee"]).count() == 2
    assert "no committee" in text_hotline(client, "JOIN ZZZZZZ", JOSE).lower()


def test_a_coordinator_adds_a_captain_and_a_member_can_be_in_several(world):
    committee = world["committee"]
    client = world["client"]
    response = client.post(f"/committees/{committee.pk}/members/",
                           {"member_id": world["maria"].pk, "role": "captain"})
    assert response.status_code == 302
    second = Committee.objects.create(name="Second block", zone=world["zones"].boyle,
                                      code="SECOND")
    client.post(f"/committees/{second.pk}/members/", {"member_id": world["maria"].pk,
                                                      "role": "contact"})
    roles = dict(CommitteeMember.objects.filter(member=world["maria"])
                 .values_list("committee__name", "role"))
    assert roles == {"Calle Soto block": "captain", "Second block": "contact"}
    far = make_member("Far", "en", phone="+12135550109", at=FAR)
    assert client.post(f"/committees/{committee.pk}/members/",
                       {"member_id": far.pk, "role": "member"}).status_code == 400
    assert client.post(f"/committees/{committee.pk}/members/",
                       {"member_id": world["jose"].pk, "role": "boss"}).status_code == 400


def test_each_save_of_the_plan_is_a_version_with_its_author(world):
    committee, client = world["committee"], world["client"]
    assert client.post(f"/committees/{committee.pk}/plan/", PLAN).status_code == 302
    dispatcher = make_staff("disp", StaffRole.DISPATCHER, zones=[world["zones"].boyle])
    other = signed_in_client(dispatcher.user)
    assert other.post(f"/committees/{committee.pk}/plan/",
                      {**PLAN, "hotline_caller": "Tito"}).status_code == 302
    versions = list(PlanVersion.objects.order_by("number"))
    assert [(v.number, v.hotline_caller, v.author) for v in versions] == [
        (1, "Rosa", world["coordinator"]), (2, "Tito", dispatcher)]
    old = client.get(f"/committees/{committee.pk}/plan/1/").content.decode()
    assert "Rosa" in old and "coord" in old
    printed = client.get(f"/committees/{committee.pk}/plan/print/").content.decode()
    assert "Tito" in printed and "Hollenbeck Park gazebo" in printed and "<ol>" in printed


@pytest.mark.parametrize("field,value", [
    ("meeting_point", "1234 E 1st Street"), ("meeting_point", "María's apt 4"),
    ("neighbour_checks", "Rosa checks 323 555 0199"), ("phone_tree", "Rosa\n213-555-0100"),
])
def test_the_plan_refuses_addresses_and_numbers(world, field, value):
    committee = world["committee"]
    response = world["client"].post(f"/committees/{committee.pk}/plan/",
                                    {**PLAN, field: value})
    assert response.status_code == 400
    assert not PlanVersion.objects.exists()


def test_the_meeting_point_must_be_confirmed_public(world):
    committee = world["committee"]
    data = {k: v for k, v in PLAN.items() if k != "public_place"}
    response = world["client"].post(f"/committees/{committee.pk}/plan/", data)
    assert response.status_code == 400 and "public place" in response.content.decode()


def test_the_plan_is_sent_to_the_members_in_their_language(world):
    committee, client = world["committee"], world["client"]
    client.post(f"/committees/{committee.pk}/plan/", PLAN)
    for member in (world["maria"], world["jose"]):
        CommitteeMember.objects.create(committee=committee, member=member)
    assert client.post(f"/committees/{committee.pk}/plan/send/").status_code == 302
    message = Message.objects.get(kind="notice")
    assert "Punto de encuentro: Hollenbeck Park gazebo" in message.bodies["es"]["text"]
    assert "Meet at: Hollenbeck Park gazebo" in message.bodies["en"]["text"]
    languages = dict(Delivery.objects.filter(message=message)
                     .values_list("member__name", "language"))
    assert languages == {"María": "es", "José": "en"}


def test_plan_by_sms_answers_the_short_version(world, client, twilio):
    committee = world["committee"]
    world["client"].post(f"/committees/{committee.pk}/plan/", PLAN)
    CommitteeMember.objects.create(committee=committee, member=world["jose"])
    reply = text_hotline(client, "plan", JOSE)
    assert "Calle Soto block" in reply and "Rosa > Tito > Lupe" in reply
    CommitteeMember.objects.create(committee=committee, member=world["maria"])
    assert "Arbol telefonico: Rosa > Tito > Lupe" in text_hotline(client, "PLAN", MARIA)


def _confirm(capture, at, *, is_drill=False):
    """Confirm an incident at `at` and run what the alert tells its listeners after the
    commit (not the outbox's drain: its threads cannot see a test's transaction)."""
    checker = make_staff(f"checker{is_drill}{at[0]}", StaffRole.VERIFIER)
    incident = report(at, is_drill=is_drill)
    with capture() as callbacks:
        do_record_verification(incident, checker.user, "confirmed")
    told = [cb for cb in callbacks if cb.__qualname__.startswith("do_send_alert.")]
    assert told
    for callback in told:
        callback()
    return incident


def test_captains_get_their_plan_with_an_alert_confirmed_in_the_area(
        world, django_capture_on_commit_callbacks):
    committee = world["committee"]
    world["client"].post(f"/committees/{committee.pk}/plan/", PLAN)
    CommitteeMember.objects.create(committee=committee, member=world["maria"],
                                   role=Role.CAPTAIN)
    CommitteeMember.objects.create(committee=committee, member=world["jose"])
    _confirm(django_capture_on_commit_callbacks, FAR)
    assert not Message.objects.filter(kind="reminder").exists()
    _confirm(django_capture_on_commit_callbacks, BOYLE)
    reminder = Message.objects.get(kind="reminder")
    assert not reminder.is_drill
    assert "Hollenbeck Park gazebo" in reminder.bodies["en"]["text"]
    assert list(Delivery.objects.filter(message=reminder)
                .values_list("member__name", flat=True)) == ["María"]


def test_a_drills_reminder_is_a_drill(world, django_capture_on_commit_callbacks):
    committee = world["committee"]
    CommitteeMember.objects.create(committee=committee, member=world["maria"],
                                   role=Role.CAPTAIN)
    _confirm(django_capture_on_commit_callbacks, BOYLE, is_drill=True)
    assert Message.objects.get(kind="reminder").is_drill


def test_tags_from_the_csv_import(world):
    text = ("name,phone,email,latitude,longitude,tags\n"
            f"Ana,+12135550111,,{BOYLE[0]},{BOYLE[1]},parents; Night shift;parents\n"
            f"Beto,+12135550112,,{BOYLE[0]},{BOYLE[1]},\n")
    result = import_members_csv(text, tag_zone=world["zones"].boyle)
    assert not result.errors and len(result.created) == 2
    ana = Member.objects.get(name="Ana")
    assert sorted(t.name for t in ana.tags.all()) == ["Night shift", "parents"]
    assert Tag.objects.filter(zone=world["zones"].boyle).count() == 2
    bad = import_members_csv(f"name,phone,email,latitude,longitude,tags\nCy,+12135550113,,"
                             f"{BOYLE[0]},{BOYLE[1]},{'x' * 61}\n")
    assert bad.errors and bad.errors[0][0] == 2 and not Member.objects.filter(name="Cy")
    page = world["client"].get("/console/tags/").content.decode()
    assert "Night shift" in page


def test_coordinators_manage_tags_dispatchers_do_not(world):
    client = world["client"]
    assert client.post("/console/tags/", {"name": "Parents",
                                          "zone": world["zones"].boyle.pk}).status_code == 302
    assert Tag.objects.get().zone == world["zones"].boyle
    dispatcher = make_staff("disp", StaffRole.DISPATCHER, zones=[world["zones"].boyle])
    assert signed_in_client(dispatcher.user).get("/console/tags/").status_code == 404


def test_retention_of_memberships_and_old_plan_versions(world, settings):
    committee = world["committee"]
    client = world["client"]
    for caller in ("Rosa", "Tito", "Lupe"):
        client.post(f"/committees/{committee.pk}/plan/", {**PLAN, "hotline_caller": caller})
    PlanVersion.objects.filter(number__lt=3).update(
        created_at=timezone.now() - timedelta(days=400))
    PlanVersion.objects.filter(number=3).update(created_at=timezone.now() - timedelta(days=400))
    CommitteeMember.objects.create(committee=committee, member=world["maria"])
    CommitteeMember.objects.create(committee=committee, member=world["jose"])
    do_opt_out(world["maria"])
    assert list(CommitteeMember.objects.values_list("member__name", flat=True)) == ["José"]
    settings.RETENTION_PLAN_VERSIONS_DAYS = 365
    counts = enforce_retention()
    assert counts["old_plan_versions"] == 2
    assert list(PlanVersion.objects.values_list("number", flat=True)) == [3]
    assert not findings()


def test_the_demo_has_a_committee_in_boyle_heights_with_a_captain_and_a_plan(db):
    call_command("seed_demo")
    committee = Committee.objects.get(code="CALLE8")
    assert committee.zone.name == "Boyle Heights" and committee.cells.exists()
    roles = dict(CommitteeMember.objects.filter(committee=committee)
                 .values_list("member__name", "role"))
    assert roles == {"María López": "captain", "Daniel Kim": "member"}
    plan = PlanVersion.objects.get(committee=committee)
    assert plan.author.user.username == "coordinator" and plan.phone_tree


def test_the_api_creates_a_committee_and_adds_a_captain_in_the_callers_zones(world):
    zones = world["zones"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_token(world['coordinator'].user)}"}
    client = Client()
    response = client.post("/api/v1/committees", {"name": "Hollenbeck", "zone": zones.boyle.pk},
                           content_type="application/json", **auth)
    assert response.status_code == 201
    pk = response.json()["id"]
    assert Committee.objects.get(pk=pk).zone == zones.boyle
    assert client.post("/api/v1/committees", {"name": "VN", "zone": "Van Nuys"},
                       content_type="application/json", **auth).status_code == 400
    response = client.post(f"/api/v1/committees/{pk}/members",
                           {"member_id": world["maria"].pk, "role": "captain"},
                           content_type="application/json", **auth)
    assert response.status_code == 201
    assert CommitteeMember.objects.get(committee_id=pk).role == Role.CAPTAIN
    elsewhere = Committee.objects.create(name="VN", zone=zones.van_nuys, code="VNVNVN")
    assert client.post(f"/api/v1/committees/{elsewhere.pk}/members",
                       {"member_id": world["maria"].pk}, content_type="application/json",
                       **auth).status_code == 404
