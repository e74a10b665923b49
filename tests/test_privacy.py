"""The privacy manifest: every field that holds personal data is declared with its purpose,
protection and retention rule; nothing forbidden can be added; the "What we hold" page shows
what could be compelled today; rotate_keys re-encrypts everything; and the rules added with
the manifest (verifier notes and cross streets, former staff, sessions) do what they say."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps
from django.utils import timezone
from lxml import html

from rapidresponse.alerts.models import Alert
from rapidresponse.incidents.actions import do_record_verification, do_set_cross_streets
from rapidresponse.incidents.models import Incident, Verification
from rapidresponse.jobs.privacy import findings
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.lib import crypto
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import make_member, make_staff
from tests.test_console import submit

DAY = timedelta(days=1)


def test_every_field_that_looks_personal_is_declared_and_nothing_forbidden_exists(db):
    assert findings() == []


@isolate_apps("rapidresponse.members")
def test_a_new_field_that_looks_personal_must_be_declared():
    class Helper(models.Model):
        phone_number = models.CharField(max_length=20)
        person = models.ForeignKey(Member, on_delete=models.CASCADE)
        shift_count = models.IntegerField()

        class Meta:
            app_label = "members"

    problems = {(f.field, f.problem) for f in findings([Helper])}
    assert ("phone_number", "looks personal and is not declared") in problems
    assert ("person", "looks personal and is not declared") in problems
    assert not any(field == "shift_count" for field, _ in problems)


@isolate_apps("rapidresponse.members")
@pytest.mark.parametrize("field", [
    ("nationality", models.CharField(max_length=40)),
    ("immigration_status", models.CharField(max_length=40)),
    ("country_of_birth", models.CharField(max_length=40)),
    ("date_of_birth", models.DateField()),
    ("a_number", models.CharField(max_length=12)),
    ("ssn", models.CharField(max_length=11)),
    ("home_address", models.CharField(max_length=200)),
    ("seen_from", models.GenericIPAddressField()),
])
def test_a_forbidden_field_is_refused_even_if_declared(field):
    name, column = field
    attrs = {name: column, "__module__": __name__,
             "Meta": type("Meta", (), {"app_label": "members"})}
    model = type(f"Forbidden_{name}", (models.Model,), attrs)
    assert any(f.field == name and "never stored" in f.problem for f in findings([model]))


def test_the_system_check_names_an_undeclared_field(db, monkeypatch):
    from rapidresponse.jobs import privacy
    from rapidresponse.jobs.privacy import Finding

    monkeypatch.setattr(privacy, "findings",
                        lambda: [Finding("members.Member", "phone", "looks personal")])
    out = io.StringIO()
    with pytest.raises(Exception, match="privacy.E001"):
        call_command("check", stdout=out, stderr=out)


# --- what we hold ----------------------------------------------------------------------------


def _held(client: Any) -> Any:
    response = client.get("/console/privacy/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return html.fromstring(response.content)


def test_the_coordinator_sees_how_many_records_of_each_kind_and_the_oldest(coordinator):
    for i in range(3):
        make_member(f"M{i}", "en", phone=f"+121355501{i:02d}")
    Member.objects.filter(name="M0").update(created_at=timezone.now() - 40 * DAY)
    page = _held(coordinator.client)
    row = page.xpath("//tr[@data-model='members.Member']")[0]
    assert row.xpath("td[@class='records']")[0].text == str(Member.objects.count())
    oldest = (timezone.now() - 40 * DAY).date().isoformat()
    assert oldest in row.text_content()
    assert "encrypted" in page.xpath("//tr[@data-model='members.ContactPoint']")[0] \
        .text_content()


def test_what_we_hold_is_in_spanish(coordinator):
    page = coordinator.client.get("/console/privacy/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Lo que guardamos" in page.content.decode()


def test_only_coordinators_see_what_we_hold(dispatcher, verifier, outsider):
    assert dispatcher.client.get("/console/privacy/").status_code == 403
    assert verifier.client.get("/console/privacy/").status_code == 403
    assert outsider.get("/console/privacy/").status_code == 302


# --- rotate_keys -----------------------------------------------------------------------------


def test_rotate_keys_re_encrypts_every_value_with_the_new_key(db, settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    member = make_member("Ana", "es", phone="+12135550101", email="ana@example.org")
    submit(contact="+12135550188")
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "members.ContactPoint.value_encrypted: 2 re-encrypted" in out.getvalue()
    assert "incidents.Report.contact_encrypted: 1 re-encrypted" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEY = new  # the old key is gone: everything still reads
    assert {c.value for c in ContactPoint.objects.filter(member=member)} == {
        "+12135550101", "ana@example.org"}
    assert crypto.decrypt(Incident.objects.get().reports.get().contact_encrypted) == \
        "+12135550188"


def test_rotate_keys_stops_on_a_value_no_key_can_read(db, settings):
    from cryptography.fernet import Fernet

    make_member("Ana", "es", phone="+12135550101")
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(Exception, match="Keep every key"):
        call_command("rotate_keys", stdout=io.StringIO())


# --- the rules that came with the manifest ---------------------------------------------------


def test_verifier_notes_and_cross_streets_go_after_the_period(zone, settings):
    checker = make_staff("checker", "verifier").user
    old, young = submit(), submit(at=(34.1867, -118.4490))
    for incident in (old, young):
        do_set_cross_streets(incident, "Cesar Chavez Ave & Soto St", None)
        do_record_verification(incident, checker, "confirmed", "saw 3 vans by the taqueria")
    now = timezone.now()
    past = now - (settings.RETENTION_INCIDENT_DETAILS_DAYS + 1) * DAY
    Verification.objects.filter(incident=old).update(created_at=past)
    Incident.objects.filter(pk=old.pk).update(last_report_at=past)
    done = enforce_retention(now=now)
    assert done["verifier_notes"] == 1 and done["cross_streets"] == 1
    assert Verification.objects.get(incident=old).notes == ""
    assert Verification.objects.get(incident=young).notes == "saw 3 vans by the taqueria"
    assert Incident.objects.get(pk=old.pk).cross_streets == ""
    assert Alert.objects.get(incident=old).area_name == "Boyle Heights"
    assert Alert.objects.get(incident=young).area_name == "Cesar Chavez Ave & Soto St"


def test_a_switched_off_staff_login_is_anonymised_after_the_period(db, settings):
    gone = make_staff("maria.v", "verifier").user
    kept = make_staff("jose.d", "dispatcher").user
    User.objects.filter(pk=gone.pk).update(
        is_active=False, email="maria@example.org", first_name="María",
        last_login=timezone.now() - (settings.RETENTION_FORMER_STAFF_DAYS + 1) * DAY)
    enforce_retention()
    gone.refresh_from_db()
    assert (gone.username, gone.email, gone.first_name) == (f"former-{gone.pk}", "", "")
    assert not gone.has_usable_password()
    assert User.objects.get(pk=kept.pk).username == "jose.d"


def test_expired_sessions_are_deleted(coordinator):
    Session.objects.create(session_key="x" * 32, session_data="",
                           expire_date=timezone.now() - DAY)
    enforce_retention()
    assert not Session.objects.filter(session_key="x" * 32).exists()
    assert Session.objects.exists()  # the coordinator's own session stays


def test_a_switched_off_staff_login_loses_its_authenticator_at_once(db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    gone = make_staff("maria.v", "verifier").user
    kept = make_staff("jose.d", "dispatcher").user
    assert TOTPDevice.objects.filter(user=gone).exists()
    User.objects.filter(pk=gone.pk).update(is_active=False)
    enforce_retention()
    assert not TOTPDevice.objects.filter(user=gone).exists()
    assert TOTPDevice.objects.filter(user=kept).exists()
