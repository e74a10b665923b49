"""Retention: each rule deletes or erases exactly what it says and keeps what is younger."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from rapidresponse.accounts.models import ApiToken, AuditEntry
from rapidresponse.accounts.tokens import do_issue_token
from rapidresponse.alerts.models import Alert
from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Message
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_resolve,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident, Report, State
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.lib import crypto
from rapidresponse.members.actions import do_opt_out
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import BOYLE, FAR, make_member

DAY = timedelta(days=1)


@pytest.fixture
def now() -> Any:
    return timezone.now()


def report(at: tuple[float, float] = BOYLE, **fields: Any) -> Report:
    data = {"latitude": at[0], "longitude": at[1], "activity": "patrol", "agency": "ice",
            "notes": "white van, plate 7ABC123", "contact": "+12135550199",
            "location_text": "behind the market", "uniform_text": "vests",
            "equipment_text": "two vans", **fields}
    return do_submit_report(build_report_input(data), source="web")


def age(model: Any, pk: int, field: str, when: Any) -> None:
    model.objects.filter(pk=pk).update(**{field: when})


def notice(member: Member) -> Message:
    return outbox.send_to_member(member, "notice", {"en": {"text": "meeting tonight"}})


# --- reports and incidents -----------------------------------------------------------------


def test_report_details_are_erased_after_the_retention_period(db, now, settings):
    old = report()
    age(Report, old.pk, "created_at", now - (settings.RETENTION_REPORT_DETAILS_DAYS + 1) * DAY)
    enforce_retention(now=now)
    old.refresh_from_db()
    assert (old.notes, old.contact_encrypted, old.location_text, old.uniform_text,
            old.equipment_text, old.reporter_key) == ("", "", "", "", "", "")
    # The structured facts stay: the incident still has its report.
    assert old.activity == "patrol" and old.agency == "ice"


def test_younger_report_details_are_kept(db, now, settings):
    young = report()
    age(Report, young.pk, "created_at", now - (settings.RETENTION_REPORT_DETAILS_DAYS - 1) * DAY)
    enforce_retention(now=now)
    young.refresh_from_db()
    assert young.notes == "white van, plate 7ABC123"
    assert crypto.decrypt(young.contact_encrypted) == "+12135550199"


def test_closed_incident_is_deleted_with_its_reports_after_the_period(db, now, settings):
    old = report().incident
    Incident.objects.filter(pk=old.pk).update(
        state=State.FALSE_ALARM,
        last_report_at=now - (settings.RETENTION_INCIDENT_DAYS + 1) * DAY)
    enforce_retention(now=now)
    assert not Incident.objects.filter(pk=old.pk).exists()
    assert not Report.objects.filter(incident_id=old.pk).exists()


def test_open_incident_is_kept_however_old(db, now, settings):
    old = report().incident
    age(Incident, old.pk, "last_report_at", now - (settings.RETENTION_INCIDENT_DAYS + 1) * DAY)
    enforce_retention(now=now)
    assert Incident.objects.filter(pk=old.pk).exists()


def test_younger_closed_incident_is_kept(db, now, settings):
    young = report().incident
    Incident.objects.filter(pk=young.pk).update(
        state=State.RESOLVED,
        last_report_at=now - (settings.RETENTION_INCIDENT_DAYS - 1) * DAY)
    enforce_retention(now=now)
    assert Incident.objects.filter(pk=young.pk).exists()


def test_old_incident_takes_its_alerts_and_their_messages_with_it(zone, verifier, now,
                                                                  settings):
    make_member("Ana", "es", phone="+12135550101")
    incident = report().incident
    do_record_verification(incident, verifier.user, "confirmed")
    do_resolve(incident, verifier.user)
    messages = list(Alert.objects.filter(incident=incident).values_list("message_id",
                                                                         flat=True))
    assert len(messages) == 2
    age(Incident, incident.pk, "last_report_at",
        now - (settings.RETENTION_INCIDENT_DAYS + 1) * DAY)
    enforce_retention(now=now)
    assert not Alert.objects.filter(incident_id=incident.pk).exists()
    assert not Message.objects.filter(pk__in=messages).exists()
    assert not Delivery.objects.filter(message_id__in=messages).exists()


# --- the outbox ----------------------------------------------------------------------------


def test_old_deliveries_and_their_messages_are_deleted(db, now, settings):
    member = make_member("Ana", "es", phone="+12135550101")
    old = notice(member)
    cutoff = now - (settings.RETENTION_DELIVERY_DAYS + 1) * DAY
    age(Message, old.pk, "created_at", cutoff)
    Delivery.objects.filter(message=old).update(created_at=cutoff)
    enforce_retention(now=now)
    assert not Message.objects.filter(pk=old.pk).exists()
    assert not Delivery.objects.filter(message_id=old.pk).exists()


def test_younger_deliveries_and_messages_are_kept(db, now, settings):
    member = make_member("Ana", "es", phone="+12135550101")
    young = notice(member)
    cutoff = now - (settings.RETENTION_DELIVERY_DAYS - 1) * DAY
    age(Message, young.pk, "created_at", cutoff)
    Delivery.objects.filter(message=young).update(created_at=cutoff)
    enforce_retention(now=now)
    assert Delivery.objects.filter(message=young).count() == 1


def test_alert_message_outlives_its_deliveries_until_the_incident_goes(zone, verifier, now,
                                                                        settings):
    make_member("Ana", "es", phone="+12135550101")
    incident = report().incident
    do_record_verification(incident, verifier.user, "confirmed")
    alert = Alert.objects.get(incident=incident)
    cutoff = now - (settings.RETENTION_DELIVERY_DAYS + 1) * DAY
    age(Message, alert.message_id, "created_at", cutoff)
    Delivery.objects.filter(message_id=alert.message_id).update(created_at=cutoff)
    enforce_retention(now=now)
    assert not Delivery.objects.filter(message_id=alert.message_id).exists()
    assert Message.objects.filter(pk=alert.message_id).exists()
    assert Alert.objects.filter(pk=alert.pk).exists()


def test_old_console_messages_are_deleted_and_younger_kept(db, now, settings):
    member = make_member("Ana", "es", phone="+12135550101")
    notice(member)
    notice(member)
    outbox.drain()
    old, young = ConsoleMessage.objects.order_by("id")
    age(ConsoleMessage, old.pk, "created_at",
        now - (settings.RETENTION_CONSOLE_MESSAGE_DAYS + 1) * DAY)
    age(ConsoleMessage, young.pk, "created_at",
        now - (settings.RETENTION_CONSOLE_MESSAGE_DAYS - 1) * DAY)
    enforce_retention(now=now)
    assert list(ConsoleMessage.objects.values_list("pk", flat=True)) == [young.pk]


# --- members -------------------------------------------------------------------------------


def pending(phone: str) -> Member:
    member = make_member("Pending", "en", phone=phone)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.PENDING)
    return member


def test_unconfirmed_sign_up_is_deleted_after_the_period(db, now, settings):
    old = pending("+12135550101")
    age(Member, old.pk, "created_at",
        now - timedelta(hours=settings.RETENTION_UNCONFIRMED_MEMBER_HOURS + 1))
    enforce_retention(now=now)
    assert not Member.objects.filter(pk=old.pk).exists()
    assert find_contact("sms", "+12135550101") is None


def test_younger_unconfirmed_sign_up_is_kept(db, now, settings):
    young = pending("+12135550101")
    age(Member, young.pk, "created_at",
        now - timedelta(hours=settings.RETENTION_UNCONFIRMED_MEMBER_HOURS - 1))
    enforce_retention(now=now)
    assert Member.objects.filter(pk=young.pk).exists()


def test_old_active_member_is_kept(db, now):
    member = make_member("Ana", "es", phone="+12135550101")
    age(Member, member.pk, "created_at", now - 3000 * DAY)
    enforce_retention(now=now)
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.contacts.get().value == "+12135550101"


def test_opted_out_contact_values_are_erased_at_once(db, now):
    member = make_member("Ana", "es", phone="+12135550101", email="ana@example.com")
    do_opt_out(member)
    # Values left behind by an older version, or written back by a re-join that never
    # completed: the job erases them whatever their age.
    ContactPoint.objects.filter(member=member).update(
        value_encrypted=crypto.encrypt("+12135550101"))
    enforce_retention(now=now)
    assert set(member.contacts.values_list("value_encrypted", flat=True)) == {""}


def browsers(member: Member, *endpoints: str) -> None:
    from rapidresponse.channels.push.subscriptions import do_subscribe, parse_subscription
    from tests.test_selfservice import browser_keys

    for endpoint in endpoints:
        do_subscribe(member, parse_subscription({"endpoint": endpoint, "keys": browser_keys()}))


def test_leaving_erases_every_browser_and_the_index_that_finds_it(db, now):
    from rapidresponse.channels.push.models import PushEndpoint

    member = make_member("Ana", "es", phone="+12135550101")
    browsers(member, "https://fcm.googleapis.com/fcm/send/a",
             "https://web.push.apple.com/b")
    do_opt_out(member)
    assert member.contacts.get(kind="push").value_encrypted == ""
    assert not PushEndpoint.objects.exists()


def test_browser_indexes_whose_browsers_were_erased_are_deleted_and_others_kept(db, now):
    from rapidresponse.channels.push.models import PushEndpoint

    ana = make_member("Ana", "es", phone="+12135550101")
    rosa = make_member("Rosa", "en", phone="+12135550102")
    browsers(ana, "https://fcm.googleapis.com/fcm/send/a", "https://web.push.apple.com/b")
    browsers(rosa, "https://fcm.googleapis.com/fcm/send/c")
    # Erased by an older version's opt-out, which left the indexes behind.
    Member.objects.filter(pk=ana.pk).update(status=Member.Status.OPTED_OUT, opted_out_at=now)
    ContactPoint.objects.filter(member=ana).update(value_encrypted=crypto.encrypt("[]"))
    done = enforce_retention(now=now)
    assert done["push_endpoints"] == 2
    assert set(PushEndpoint.objects.values_list("contact__member", flat=True)) == {rosa.pk}


def test_opt_out_stays_honoured_until_the_period_ends(db, now, settings):
    member = make_member("Ana", "es", phone="+12135550101")
    do_opt_out(member)
    age(Member, member.pk, "opted_out_at", now - (settings.RETENTION_OPTED_OUT_DAYS - 1) * DAY)
    enforce_retention(now=now)
    found = find_contact("sms", "+12135550101")
    assert found is not None and found.member.status == Member.Status.OPTED_OUT


def test_opted_out_member_is_forgotten_after_the_period(db, now, settings):
    member = make_member("Ana", "es", phone="+12135550101")
    do_opt_out(member)
    age(Member, member.pk, "opted_out_at", now - (settings.RETENTION_OPTED_OUT_DAYS + 1) * DAY)
    enforce_retention(now=now)
    assert not Member.objects.filter(pk=member.pk).exists()
    assert find_contact("sms", "+12135550101") is None


def test_codes_are_deleted_a_day_after_they_expire(client, db, now):
    member = make_member("Ana", "es", phone="+12135550101")
    client.post("/leave/", {"contact": "+12135550101"})
    code = OneTimeCode.objects.get(member=member)
    age(OneTimeCode, code.pk, "expires_at", now - DAY - timedelta(minutes=1))
    enforce_retention(now=now)
    assert not OneTimeCode.objects.filter(pk=code.pk).exists()


def test_codes_expired_less_than_a_day_ago_are_kept(client, db, now):
    member = make_member("Ana", "es", phone="+12135550101")
    client.post("/leave/", {"contact": "+12135550101"})
    code = OneTimeCode.objects.get(member=member)
    age(OneTimeCode, code.pk, "expires_at", now - DAY + timedelta(minutes=1))
    enforce_retention(now=now)
    assert OneTimeCode.objects.filter(pk=code.pk).exists()


# --- staff ---------------------------------------------------------------------------------


def test_expired_api_tokens_are_deleted_and_valid_ones_kept(dispatcher, now):
    do_issue_token(dispatcher.user)
    expired, valid = ApiToken.objects.filter(user=dispatcher.user).order_by("id")[:2]
    age(ApiToken, expired.pk, "expires_at", now - timedelta(minutes=1))
    enforce_retention(now=now)
    assert list(ApiToken.objects.filter(user=dispatcher.user).values_list("pk", flat=True)
                ) == [valid.pk]


def test_audit_entries_are_deleted_after_the_period_and_younger_kept(db, now, settings):
    report()
    old, young = AuditEntry.objects.order_by("id")[:2]
    age(AuditEntry, old.pk, "at", now - (settings.RETENTION_AUDIT_DAYS + 1) * DAY)
    age(AuditEntry, young.pk, "at", now - (settings.RETENTION_AUDIT_DAYS - 1) * DAY)
    enforce_retention(now=now)
    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=young.pk).exists()


# --- the job -------------------------------------------------------------------------------


def test_nothing_young_is_touched(zone, verifier, now):
    ana = make_member("Ana", "es", phone="+12135550101")
    make_member("Far", "en", phone="+18185550104", at=FAR)
    incident = report().incident
    do_record_verification(incident, verifier.user, "confirmed")
    outbox.drain()
    counts = {m.__name__: m.objects.count() for m in (
        Incident, Report, Alert, Message, Delivery, ConsoleMessage, Member, ContactPoint,
        AuditEntry, ApiToken)}
    done = enforce_retention(now=now)
    assert set(done.values()) == {0}
    assert counts == {m.__name__: m.objects.count() for m in (
        Incident, Report, Alert, Message, Delivery, ConsoleMessage, Member, ContactPoint,
        AuditEntry, ApiToken)}
    assert Report.objects.get().notes
    assert ana.contacts.get().value == "+12135550101"


def test_command_reports_what_it_removed(db, settings):
    old = pending("+12135550101")
    age(Member, old.pk, "created_at", timezone.now() - timedelta(
        hours=settings.RETENTION_UNCONFIRMED_MEMBER_HOURS + 1))
    out = io.StringIO()
    call_command("enforce_retention", stdout=out)
    assert "pending_members: 1" in out.getvalue().splitlines()
    assert not Member.objects.filter(pk=old.pk).exists()


def test_code_messages_are_gone_a_day_after_they_were_sent(db, deliver):
    """A one-time code must not sit readable in the outbox or message log for months."""
    from datetime import timedelta

    from django.utils import timezone

    from rapidresponse.delivery.models import ConsoleMessage, Message
    from rapidresponse.delivery.outbox import send_to_member
    from rapidresponse.jobs.retention import enforce_retention
    from tests.conftest import make_member

    member = make_member("Ana", "es", phone="+12135550170")
    send_to_member(member, "confirmation", {"en": {"text": "code 123456"},
                                            "es": {"text": "código 123456"}})
    deliver()
    assert ConsoleMessage.objects.filter(text__contains="123456").exists()
    enforce_retention(now=timezone.now() + timedelta(hours=23))
    assert Message.objects.filter(kind="confirmation").exists()
    enforce_retention(now=timezone.now() + timedelta(hours=25))
    assert not Message.objects.filter(kind="confirmation").exists()
    assert not ConsoleMessage.objects.filter(text__contains="123456").exists()
