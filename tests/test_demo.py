"""The demo network is what the README promises."""

from pathlib import Path

from django.contrib.auth import authenticate
from django.core.management import call_command

from rapidresponse.accounts.models import Role, Staff
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import Member
from rapidresponse.web import demo
from rapidresponse.zones.models import Zone

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_seed_demo_creates_the_documented_network(db):
    call_command("seed_demo")
    assert Zone.objects.filter(parent__name="Los Angeles").count() >= 3
    for role in Role.values:
        user = authenticate(username=role if role != "verifier" else "verifier",
                            password=demo.PASSWORD)
        assert user is not None and user.staff.role == role
    assert Staff.objects.filter(role=Role.VERIFIER, on_call=True, member__isnull=False).count() >= 2
    active = Member.objects.filter(status="active")
    assert 190 <= active.count() <= 260
    assert active.filter(language="es").count() > 50
    assert active.filter(language="en").count() > 50
    for zone in Zone.objects.filter(parent__isnull=False):
        assert zone.cells.exists()


def test_readme_sample_members_exist_with_their_language(db):
    call_command("seed_demo")
    for sample in demo.SAMPLES:
        contact = find_contact("sms", sample.phone)
        assert contact is not None, sample.name
        assert contact.member.name == sample.name
        assert contact.member.language == sample.language
        assert sample.name in README
        on_signal = contact.member.contacts.filter(kind="signal", enabled=True,
                                                   verified_at__isnull=False).exists()
        assert on_signal == sample.signal, sample.name


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo")
    before = Member.objects.count()
    call_command("seed_demo")
    assert Member.objects.count() == before


def test_the_dispatch_tour_works_on_the_demo(db):
    """README, "Send people to the spot": in Boyle Heights `responder` is asked for a legal
    observer (not responder2 or responder3), nobody can go as an interpreter, and the two
    sample members who will witness are asked."""
    from io import StringIO

    from rapidresponse.dispatch.actions import do_request_dispatch
    from rapidresponse.dispatch.witnesses import do_request_witnesses
    from rapidresponse.incidents.actions import do_record_verification
    from tests.zones_support import report

    call_command("seed_demo", members=10, stdout=StringIO())
    incident = report((34.0339, -118.2036))
    do_record_verification(incident, Staff.objects.get(user__username="verifier").user,
                           "confirmed")
    incident.refresh_from_db()
    dispatcher = Staff.objects.get(user__username="dispatcher").user
    sent = do_request_dispatch(incident, "legal_observer", 1, dispatcher)
    assert [a.staff.user.username for a in sent.assignments.all()] == ["responder"]
    assert do_request_dispatch(incident, "interpreter", 1, dispatcher).status == "exhausted"
    _request, asked = do_request_witnesses(incident, 1000, 20, dispatcher)
    assert asked == 2
    assert set(Member.objects.filter(can_witness=True).values_list("name", flat=True)) == set(
        demo.WITNESSES)
