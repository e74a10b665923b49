"""`create_staff` with the responder options the responders app adds to it, as the README
documents them; and the retention rules of responders' data."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from rapidresponse.accounts.models import Staff
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.lib import geo
from rapidresponse.members.contacts import find_contact
from rapidresponse.responders.actions import do_new_calendar_link, do_set_availability
from rapidresponse.responders.models import (
    CalendarFeed,
    ResponderProfile,
    ShiftOverride,
    ShiftSchedule,
    Training,
)
from rapidresponse.responders.queries import available_responders
from tests.conftest import BOYLE, make_member
from tests.responders_support import responder, shift


def create(*args: str) -> str:
    out = StringIO()
    call_command("create_staff", *args, stdout=out)
    return out.getvalue()


DOCUMENTED = ["ana", "--role", "responder", "--password", "long-enough-1",
              "--phone", "+13235550191", "--latitude", "34.0339", "--longitude", "-118.2036",
              "--skill", "legal_observer", "--skill", "accompaniment"]


def test_create_staff_provisions_a_responder_as_documented(zone, caplog):
    out = create(*DOCUMENTED, "--zone", "Boyle Heights", "--totp-secret",
                 "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    assert "Created responder ana" in out and "legal_observer" in out
    assert "+1323" not in out and "0191" not in out
    staff = Staff.objects.select_related("member").get(user__username="ana")
    profile = staff.responder
    assert sorted(profile.skills.values_list("skill", flat=True)) == [
        "accompaniment", "legal_observer"]
    assert profile.home_cell == geo.cell_for(*BOYLE, settings.H3_MEMBER_RESOLUTION)
    assert [z.name for z in staff.zones.all()] == ["Boyle Heights"]
    contact = find_contact("sms", "+13235550191")
    assert contact is not None and contact.member == staff.member
    assert contact.verified_at is not None and contact.enabled
    assert "+13235550191" not in contact.value_encrypted
    assert "0191" not in caplog.text


def test_messages_reach_the_new_responder_through_the_outbox(zone):
    create(*DOCUMENTED)
    staff = Staff.objects.get(user__username="ana")
    assert staff.member is not None
    message = outbox.send_to_member(staff.member, "dispatch",
                                    {"en": {"text": "Can you go?"}})
    assert message is not None
    assert Delivery.objects.filter(message=message, channel="sms").exists()


def test_trained_and_provisioned_a_responder_is_found_nearest(zone):
    create(*DOCUMENTED)
    staff = Staff.objects.get(user__username="ana")
    staff.responder.trainings.create(skill="legal_observer", completed_on=date(2025, 1, 1))
    found = available_responders("legal_observer", geo.cell_for(*BOYLE, 9))
    assert [n.staff.user.username for n in found] == ["ana"]


def test_running_it_again_updates_the_phone_and_skills(zone):
    create(*DOCUMENTED)
    create("ana", "--role", "responder", "--password", "long-enough-1", "--phone",
           "+13235550192", "--skill", "witness")
    staff = Staff.objects.get(user__username="ana")
    assert list(staff.responder.skills.values_list("skill", flat=True)) == ["witness"]
    assert find_contact("sms", "+13235550191") is None
    assert find_contact("sms", "+13235550192").member == staff.member


def test_a_phone_already_on_the_list_becomes_that_member_s(zone):
    member = make_member("Ana", "es", phone="+13235550193")
    create("ana", "--role", "verifier", "--password", "long-enough-1",
           "--phone", "+13235550193")
    assert Staff.objects.get(user__username="ana").member == member


@pytest.mark.parametrize("args,message", [
    (["--phone", "not a phone"], "number"),
    (["--latitude", "34.0"], "both the latitude and the longitude"),
    (["--latitude", "134.0", "--longitude", "0"], "not a valid latitude"),
])
def test_bad_options_stop_before_anything_is_written(db, args, message):
    with pytest.raises(CommandError) as exc:
        create("ana", "--role", "responder", "--password", "long-enough-1", *args)
    assert message.lower() in str(exc.value).lower()
    assert not Staff.objects.exists()


def test_an_unknown_skill_is_refused(db):
    with pytest.raises(CommandError):
        create("ana", "--role", "responder", "--password", "long-enough-1",
               "--skill", "juggling")


def test_without_responder_options_no_profile_is_made(db):
    create("ana", "--role", "dispatcher", "--password", "long-enough-1")
    assert not ResponderProfile.objects.exists()


# --- retention ---------------------------------------------------------------------------------


def test_a_former_staff_member_s_profile_shifts_and_link_go(zone):
    ana, ben = responder("ana"), responder("ben")
    s = shift(zone, "legal_observer", ana, ben)
    s.overrides.create(day=timezone.localdate(), role="backup", staff=ana)
    do_new_calendar_link(ana)
    ana.user.is_active = False
    ana.user.save()
    enforce_retention()
    assert not ResponderProfile.objects.filter(staff=ana).exists()
    assert not Training.objects.filter(profile__staff=ana).exists()
    assert not CalendarFeed.objects.filter(staff=ana).exists()
    assert not ShiftOverride.objects.filter(staff=ana).exists()
    s.refresh_from_db()
    assert s.primary is None and s.backup == ben  # a hole the gaps page shows
    assert ResponderProfile.objects.filter(staff=ben).exists()


def test_past_shifts_swaps_trainings_and_away_times_go(zone):
    ana = responder("ana")
    old_day = timezone.localdate() - timedelta(days=settings.RETENTION_SHIFT_DAYS + 2)
    ended = shift(zone, "verifier", ana, first_day=date(2020, 1, 6), last_day=old_day)
    running = shift(zone, "verifier", ana, first_day=date(2020, 1, 6))
    running.overrides.create(day=old_day, role="primary", staff=None)
    ana.responder.trainings.create(skill="witness", completed_on=date(2019, 1, 1),
                                   expires_on=old_day)
    do_set_availability(ana, "not_today")
    enforce_retention(timezone.now() + timedelta(days=1, hours=1))
    assert not ShiftSchedule.objects.filter(pk=ended.pk).exists()
    assert ShiftSchedule.objects.filter(pk=running.pk).exists()
    assert not ShiftOverride.objects.exists()
    assert not Training.objects.filter(skill="witness").exists()
    assert Training.objects.filter(skill="legal_observer").exists()
    profile = ResponderProfile.objects.get(staff=ana)
    assert profile.away_until is None and profile.availability == "available"


def test_the_retention_list_names_the_responders_rules(db):
    out = StringIO()
    call_command("enforce_retention", "--list", stdout=out)
    for name in ("former_responders", "past_shifts", "expired_trainings",
                 "past_availability"):
        assert name in out.getvalue()
