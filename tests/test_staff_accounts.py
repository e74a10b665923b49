"""Provisioning staff without prompts: create_staff with a second factor and zones,
totp_code for the demo, and the demo's logins."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from rapidresponse.accounts import secondfactor
from rapidresponse.accounts.models import Staff
from rapidresponse.web import demo
from rapidresponse.zones.models import Zone
from tests.conftest import TOTP_SECRET

ROOT = Path(__file__).resolve().parent.parent
SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"


def create(*args: str) -> str:
    out = StringIO()
    call_command("create_staff", *args, stdout=out)
    return out.getvalue()


def test_with_a_totp_secret_the_app_is_set_up_already(db):
    create("ana", "--role", "dispatcher", "--password", "long-enough-1",
           "--totp-secret", SECRET.lower())
    device = TOTPDevice.objects.get(user__username="ana")
    assert device.confirmed and device.bin_key == b"12345678901234567890"
    # An app given the same secret signs her in on the web...
    client = Client()
    client.post("/login/", {"username": "ana", "password": "long-enough-1"})
    response = client.post("/login/code/", {"code": f"{totp(b'12345678901234567890'):06d}"})
    assert response.status_code == 302
    assert client.get("/console/").status_code == 200


def test_without_a_totp_secret_the_app_is_set_up_at_first_sign_in(db):
    out = create("ana", "--role", "dispatcher", "--password", "long-enough-1")
    assert "sets up the authenticator app at first sign-in" in out
    client = Client()
    response = client.post("/login/", {"username": "ana", "password": "long-enough-1"},
                           follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/set-up/")


def test_a_new_secret_replaces_the_old_app(db):
    create("ana", "--role", "dispatcher", "--password", "long-enough-1",
           "--totp-secret", SECRET)
    create("ana", "--role", "dispatcher", "--password", "long-enough-1",
           "--totp-secret", TOTP_SECRET)
    devices = TOTPDevice.objects.filter(user__username="ana")
    assert devices.count() == 1
    assert devices.get().bin_key == secondfactor.parse_secret(TOTP_SECRET)


def test_updating_without_a_secret_keeps_the_app(db):
    create("ana", "--role", "dispatcher", "--password", "long-enough-1",
           "--totp-secret", SECRET)
    create("ana", "--role", "coordinator", "--password", "long-enough-2")
    assert TOTPDevice.objects.get(user__username="ana").confirmed
    assert Staff.objects.get(user__username="ana").role == "coordinator"


@pytest.mark.parametrize(("secret", "reason"), [
    ("not base32 at all!", "base32"),
    ("GEZDGNBVGY3TQOJQ", "at least 128 bits"),
    ("1234567890123456789012345678", "base32"),
])
def test_a_bad_secret_is_refused(db, secret, reason):
    with pytest.raises(CommandError, match=reason):
        create("ana", "--role", "dispatcher", "--password", "long-enough-1",
               "--totp-secret", secret)
    assert not Staff.objects.exists()


def test_zones_are_given_by_name(db):
    Zone.objects.create(name="Boyle Heights")
    Zone.objects.create(name="Westlake")
    Zone.objects.create(name="Van Nuys")
    create("ana", "--role", "verifier", "--password", "long-enough-1",
           "--zone", "Boyle Heights", "--zone", "Westlake")
    staff = Staff.objects.get(user__username="ana")
    assert sorted(staff.zones.values_list("name", flat=True)) == ["Boyle Heights", "Westlake"]


def test_an_unknown_zone_is_refused_with_the_list_of_zones(db):
    Zone.objects.create(name="Boyle Heights")
    Zone.objects.create(name="Westlake")
    with pytest.raises(CommandError) as error:
        create("ana", "--role", "verifier", "--password", "long-enough-1",
               "--zone", "Boyle Heights", "--zone", "Atlantis")
    assert "Atlantis" in str(error.value)
    assert "Boyle Heights, Westlake" in str(error.value)
    assert not Staff.objects.exists()


def test_no_zone_given_is_no_zone_yet(db):
    out = create("ana", "--role", "verifier", "--password", "long-enough-1")
    staff = Staff.objects.get(user__username="ana")
    assert not staff.zones.exists() and not staff.network_wide
    assert "no zone yet: sees nothing" in out


def test_network_wide_is_said_and_can_be_taken_back(db):
    out = create("ana", "--role", "coordinator", "--password", "long-enough-1",
                 "--network-wide")
    assert "network-wide" in out
    assert Staff.objects.get(user__username="ana").network_wide
    create("ana", "--role", "coordinator", "--password", "long-enough-1")  # kept
    assert Staff.objects.get(user__username="ana").network_wide
    create("ana", "--role", "coordinator", "--password", "long-enough-1",
           "--not-network-wide")
    assert not Staff.objects.get(user__username="ana").network_wide


@pytest.mark.parametrize(("args", "admin"), [
    (("--role", "coordinator", "--network-wide"), True),
    (("--role", "coordinator", "--zone", "Boyle Heights"), False),
    (("--role", "dispatcher", "--network-wide"), False),
])
def test_only_network_wide_coordinators_may_use_the_admin_site(db, args, admin):
    Zone.objects.create(name="Boyle Heights")
    create("ana", *args, "--password", "long-enough-1", "--totp-secret", SECRET)
    staff = Staff.objects.get(user__username="ana")
    assert staff.user.is_staff == admin
    # Even made staff by hand, a coordinator of one zone is not let in.
    staff.user.is_staff = True
    staff.user.save()
    client = Client()
    client.post("/login/", {"username": "ana", "password": "long-enough-1"})
    client.post("/login/code/", {"code": f"{totp(b'12345678901234567890'):06d}"})
    assert (client.get("/admin/").status_code == 200) == admin


# --- totp_code ------------------------------------------------------------------------------


def test_totp_code_prints_the_code_the_app_shows(db):
    create("ana", "--role", "dispatcher", "--password", "long-enough-1",
           "--totp-secret", SECRET)
    out = StringIO()
    call_command("totp_code", "ana", stdout=out)
    code = out.getvalue().strip()
    assert code == f"{totp(b'12345678901234567890'):06d}"
    response = Client().post("/api/v1/auth/token",
                             {"username": "ana", "password": "long-enough-1", "otp": code},
                             content_type="application/json")
    assert response.status_code == 200


def test_totp_code_is_refused_in_production(db, settings):
    create("ana", "--role", "dispatcher", "--password", "long-enough-1",
           "--totp-secret", SECRET)
    settings.PRODUCTION = True
    out = StringIO()
    with pytest.raises(CommandError, match="RR_ENV=production"):
        call_command("totp_code", "ana", stdout=out)
    assert out.getvalue() == ""


def test_totp_code_for_someone_without_an_app(db):
    create("ana", "--role", "dispatcher", "--password", "long-enough-1")
    with pytest.raises(CommandError, match="no authenticator app"):
        call_command("totp_code", "ana")


# --- the demo ---------------------------------------------------------------------------------


def test_every_demo_login_has_the_documented_secret(db):
    call_command("seed_demo", members=10, stdout=StringIO())
    key = secondfactor.parse_secret(demo.TOTP_SECRET)
    for username in demo.LOGINS:
        device = TOTPDevice.objects.get(user__username=username)
        assert device.confirmed and device.bin_key == key, username
    readme = (ROOT / "README.md").read_text()
    assert demo.TOTP_SECRET in readme and "totp_code" in readme
    assert demo.TOTP_SECRET in (ROOT / "Makefile").read_text()


def test_a_demo_login_signs_in_with_the_documented_secret(db):
    call_command("seed_demo", members=10, stdout=StringIO())
    client = Client()
    client.post("/login/", {"username": "dispatcher", "password": demo.PASSWORD})
    key = secondfactor.parse_secret(demo.TOTP_SECRET)
    assert client.post("/login/code/", {"code": f"{totp(key):06d}"}).status_code == 302
    assert client.get("/console/").status_code == 200


def test_demo_staff_have_zones(db):
    call_command("seed_demo", members=10, stdout=StringIO())
    verifier2 = Staff.objects.get(user__username="verifier2")
    assert list(verifier2.zones.values_list("name", flat=True)) == ["Westlake"]


def works_in(username: str) -> list[str]:
    staff = Staff.objects.get(user__username=username)
    return ["*"] if staff.network_wide else sorted(staff.zones.values_list("name", flat=True))


def test_demo_logins_work_where_the_readme_says(db):
    call_command("seed_demo", members=10, stdout=StringIO())
    readme = (ROOT / "README.md").read_text()
    for username in demo.LOGINS:
        assert works_in(username) == sorted(demo.WORKS_IN[username]), username
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{username}` |"))
        said = row.split("|")[3].strip()
        assert said == ("the whole network" if works_in(username) == ["*"]
                        else ", ".join(demo.WORKS_IN[username])), username


def test_seeding_again_puts_the_demo_logins_back_in_their_zones(db):
    call_command("seed_demo", members=10, stdout=StringIO())
    Staff.objects.get(user__username="dispatcher").zones.clear()
    Staff.objects.filter(user__username="coordinator").update(network_wide=False)
    Staff.objects.get(user__username="coordinator2").user.delete()
    call_command("seed_demo", members=10, stdout=StringIO())
    assert works_in("dispatcher") == ["Boyle Heights", "Huntington Park", "Westlake"]
    assert works_in("coordinator") == ["*"]
    assert works_in("coordinator2") == ["Van Nuys"]


def test_a_demo_seeded_before_second_factors_gets_them(db):
    call_command("seed_demo", members=10, stdout=StringIO())
    TOTPDevice.objects.all().delete()
    call_command("seed_demo", members=10, stdout=StringIO())
    assert TOTPDevice.objects.filter(confirmed=True).count() == len(demo.LOGINS)
