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
