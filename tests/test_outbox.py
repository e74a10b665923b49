"""The outbox: one delivery per member and channel, written in the transaction of the action
that caused it, delivered by the worker most urgent and nearest first, retried with backoff,
and never sent twice when a worker dies."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapidresponse.alerts.models import Alert
from rapidresponse.channels.sms.console import ConsoleSmsBackend
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Message
from rapidresponse.delivery.transport import (
    Attempt,
    Outbound,
    Transport,
    TransportError,
    transport_for,
)
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident
from rapidresponse.members.actions import do_opt_out
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import BOYLE, make_member, make_staff

BODIES = {"en": {"subject": "Notice", "text": "Meeting tonight"},
          "es": {"subject": "Aviso", "text": "Reunión esta noche"}}

_numbers = itertools.cycle(range(300, 999))  # unique within a test


def member(name: str, *, language: str = "en", email: bool = False) -> Member:
    return make_member(name, language, phone=f"+1213555{next(_numbers):04d}",
                       email=f"{name.lower()}@example.org" if email else "")


def notice(m: Member, kind: str = "notice", **kwargs: Any) -> Message:
    return outbox.send_to_member(m, kind, BODIES, **kwargs)


def delivery_of(message: Message, channel: str = "sms") -> Delivery:
    return Delivery.objects.get(message=message, channel=channel)


def new_incident() -> Incident:
    return do_submit_report(build_report_input(
        {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests"}),
        source="web").incident


class Scripted(Transport):
    """An SMS provider whose answers the test decides: None is success, an exception fails."""

    kind = "sms"
    is_live = True
    script: ClassVar[list[Exception | None]] = []
    calls: ClassVar[list[Outbound]] = []

    def send(self, message: Outbound) -> str:
        Scripted.calls.append(message)
        outcome = Scripted.script.pop(0) if Scripted.script else None
        if outcome is not None:
            raise outcome
        return f"SM{len(Scripted.calls):04d}"


class Traceable(Scripted):
    """A provider that can be asked afterwards whether it took a message."""

    def reconcile(self, attempt: Attempt) -> str | None:
        sent = any(m.delivery_id == attempt.delivery_id for m in Scripted.calls)
        return "sent" if sent else "failed"


class Broken(Transport):
    """A backend with a bug: it fails in a way no backend should."""

    kind = "sms"
    is_live = True

    def send(self, message: Outbound) -> str:
        if "boom" in message.text:
            raise RuntimeError("a bug")
        return "ok"


@pytest.fixture
def traceable(settings: Any) -> Iterator[type[Scripted]]:
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "sms": "tests.test_outbox.Traceable"}
    transport_for.cache_clear()
    Scripted.script, Scripted.calls = [], []
    yield Scripted
    transport_for.cache_clear()


@pytest.fixture
def provider(settings: Any) -> Iterator[type[Scripted]]:
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "sms": "tests.test_outbox.Scripted"}
    transport_for.cache_clear()
    Scripted.script, Scripted.calls = [], []
    yield Scripted
    transport_for.cache_clear()


def backdate(delivery: Delivery, **fields: Any) -> None:
    """Move a delivery's times into the past, as if minutes had gone by."""
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


# --- rows ----------------------------------------------------------------------------------


def test_a_member_has_one_delivery_per_message_and_channel(db):
    ana = member("Ana")
    message = notice(ana)
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(message=message, member=ana, channel="sms", language="en",
                                next_attempt_at=now, created_at=now, updated_at=now)
    assert Delivery.objects.filter(message=message).count() == 1


def test_queueing_the_same_member_twice_keeps_one_delivery(db):
    ana = member("Ana")
    message = outbox.create_message("notice", BODIES, is_drill=False)
    outbox.add_deliveries(message, [(ana, "sms", 3), (ana, "sms", 1)])
    outbox.add_deliveries(message, [(ana, "sms", 0)])
    assert Delivery.objects.filter(message=message).count() == 1


def test_each_channel_is_its_own_delivery(db):
    ana = member("Ana", email=True)
    message = notice(ana)
    assert sorted(Delivery.objects.filter(message=message)
                  .values_list("channel", flat=True)) == ["email", "sms"]


def test_a_delivery_is_in_the_members_language(db):
    lupe = member("Lupe", language="es")
    assert delivery_of(notice(lupe)).language == "es"


@pytest.mark.django_db(transaction=True)
def test_deliveries_roll_back_with_the_action(zone):
    make_member("Near", "en", phone="+12135550360")
    checker = make_staff("checker", "verifier").user
    incident = new_incident()
    with pytest.raises(RuntimeError), transaction.atomic():
        do_record_verification(incident, checker, "confirmed")
        assert Delivery.objects.exists()  # written inside the action's transaction
        raise RuntimeError("the request failed after the action")
    assert not Delivery.objects.exists()
    assert not Message.objects.exists()
    assert not Alert.objects.exists()
    assert not ConsoleMessage.objects.exists()
    incident.refresh_from_db()
    assert incident.state == "reported"


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_once_the_action_commits(zone):
    near = make_member("Near", "en", phone="+12135550361")
    checker = make_staff("checker", "verifier").user
    do_record_verification(new_incident(), checker, "confirmed")
    # No explicit drain: the task enqueued on commit did it.
    assert ConsoleMessage.objects.filter(member=near).count() == 1
    assert Delivery.objects.get(member=near).status == "sent"


# --- the worker ----------------------------------------------------------------------------


def test_drain_sends_what_is_queued_and_records_it(db, deliver):
    ana = member("Ana")
    message = notice(ana)
    assert deliver() == 1
    d = delivery_of(message)
    assert d.status == "sent"
    assert d.attempts == 1
    assert d.sent_at is not None
    assert d.provider_id.startswith("console-")
    logged = ConsoleMessage.objects.get(delivery=d)
    number = ana.contacts.get(kind="sms").value
    assert logged.text == "Meeting tonight"
    assert logged.to_masked == "***" + number[-4:]


def test_draining_twice_sends_once(db, deliver):
    ana = member("Ana")
    notice(ana)
    deliver()
    assert deliver() == 0
    assert ConsoleMessage.objects.filter(member=ana).count() == 1


def test_drain_sends_in_priority_order_then_nearest_first(db, deliver):
    reader, helper, far, near = (member(n) for n in ("Reader", "Helper", "Far", "Near"))
    notice(reader, "notice")  # priority 20, queued first
    notice(helper, "dispatch")  # priority 10
    alert = outbox.create_message("alert", BODIES, is_drill=False)  # priority 0
    outbox.add_deliveries(alert, [(far, "sms", 3), (near, "sms", 0)])
    deliver()
    order = list(ConsoleMessage.objects.order_by("id").values_list("member__name", flat=True))
    assert order == ["Near", "Far", "Helper", "Reader"]


def test_a_transient_error_is_retried_later(db, deliver, provider):
    ana = member("Ana")
    provider.script = [TransportError("provider busy")]
    message = notice(ana)
    before = timezone.now()
    deliver()
    d = delivery_of(message)
    assert d.status == "queued"
    assert d.attempts == 1
    assert d.error == "provider busy"
    assert d.next_attempt_at > before + timedelta(seconds=5)
    assert deliver() == 0  # not due yet
    assert len(provider.calls) == 1
    backdate(d, next_attempt_at=timezone.now() - timedelta(seconds=1))
    deliver()
    d.refresh_from_db()
    assert (d.status, d.attempts, d.error) == ("sent", 2, "")
    assert len(provider.calls) == 2


def test_the_backoff_grows_with_each_attempt(db, deliver, provider):
    ana = member("Ana")
    provider.script = [TransportError("busy"), TransportError("busy")]
    d = delivery_of(notice(ana))
    start = timezone.now()
    deliver()
    d.refresh_from_db()
    first_wait = d.next_attempt_at - start
    backdate(d, next_attempt_at=timezone.now() - timedelta(seconds=1))
    start = timezone.now()
    deliver()
    d.refresh_from_db()
    second_wait = d.next_attempt_at - start
    assert d.attempts == 2
    assert second_wait > first_wait


def test_a_providers_retry_after_is_honoured(db, deliver, provider):
    ana = member("Ana")
    provider.script = [TransportError("rate limited", retry_after=600)]
    d = delivery_of(notice(ana))
    before = timezone.now()
    deliver()
    d.refresh_from_db()
    assert before + timedelta(seconds=590) < d.next_attempt_at
    assert d.next_attempt_at < timezone.now() + timedelta(seconds=610)


def test_the_outbox_gives_up_after_the_last_attempt(db, deliver, provider, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    ana = member("Ana")
    provider.script = [TransportError("busy"), TransportError("still busy")]
    d = delivery_of(notice(ana))
    deliver()
    backdate(d, next_attempt_at=timezone.now() - timedelta(seconds=1))
    deliver()
    d.refresh_from_db()
    assert (d.status, d.attempts, d.error) == ("dead", 2, "still busy")
    backdate(d, next_attempt_at=timezone.now() - timedelta(hours=1))
    assert deliver() == 0


def test_a_permanent_error_disables_the_contact_point(db, deliver, provider):
    ana = member("Ana")
    provider.script = [TransportError("number does not exist", permanent=True)]
    d = delivery_of(notice(ana))
    deliver()
    d.refresh_from_db()
    assert d.status == "failed"
    contact = ContactPoint.objects.get(member=ana, kind="sms")
    assert contact.disabled_at is not None
    assert "does not exist" in contact.disabled_reason


def test_a_disabled_contact_point_gets_no_more_messages(zone, deliver, provider):
    ana = make_member("Ana", "en", phone="+12135550370", email="ana@example.org")
    provider.script = [TransportError("number does not exist", permanent=True)]
    notice(ana)
    deliver()
    checker = make_staff("checker", "verifier").user
    do_record_verification(new_incident(), checker, "confirmed")
    alert = Alert.objects.get()
    assert list(Delivery.objects.filter(message=alert.message, member=ana)
                .values_list("channel", flat=True)) == ["email"]
    assert list(Delivery.objects.filter(message=notice(ana))
                .values_list("channel", flat=True)) == ["email"]


def test_a_timed_out_send_is_unknown_and_not_resent(db, deliver, provider):
    ana = member("Ana")
    provider.script = [TransportError("read timed out", timed_out=True)]
    d = delivery_of(notice(ana))
    deliver()
    d.refresh_from_db()
    assert d.status == "unknown"
    assert d.attempts == 1
    backdate(d, next_attempt_at=timezone.now() - timedelta(hours=1))
    assert deliver() == 0
    assert len(provider.calls) == 1


def test_a_bug_in_a_backend_does_not_stop_the_queue(db, deliver, settings):
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "sms": "tests.test_outbox.Broken"}
    transport_for.cache_clear()
    try:
        ana, ben = member("Ana"), member("Ben")
        bad = outbox.send_to_member(ana, "notice", {"en": {"subject": "", "text": "boom"}})
        good = notice(ben)
        assert deliver() == 2
        assert delivery_of(bad).status == "failed"
        assert delivery_of(good).status == "sent"
    finally:
        transport_for.cache_clear()


def test_an_opted_out_member_is_skipped(db, deliver):
    ana = member("Ana")
    message = notice(ana)
    do_opt_out(ana)
    deliver()
    assert delivery_of(message).status == "skipped"
    assert not ConsoleMessage.objects.exists()


class StopsTheNextOne(Scripted):
    """While the first message goes out, the member of the next one texts STOP."""

    def send(self, message: Outbound) -> str:
        if not Scripted.calls:
            do_opt_out(Member.objects.get(name="Ben"))
        return super().send(message)


def test_a_member_who_opts_out_while_their_message_waits_for_the_rate_limit_gets_nothing(
        db, settings, deliver):
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "sms": "tests.test_outbox.StopsTheNextOne"}
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "sms": 1}  # 1 SMS a second
    transport_for.cache_clear()
    Scripted.script, Scripted.calls = [], []
    try:
        ana, ben = member("Ana"), member("Ben")
        message = outbox.create_message("alert", BODIES, is_drill=False)
        outbox.add_deliveries(message, [(ana, "sms", 0), (ben, "sms", 1)])
        deliver()  # Ben's SMS waits about a second for its token; he opts out meanwhile
    finally:
        transport_for.cache_clear()
    assert [m.member_id for m in Scripted.calls] == [ana.pk]
    assert Delivery.objects.get(message=message, member=ben).status == "skipped"


# --- a worker that dies --------------------------------------------------------------------


def kill_worker_after_claim() -> list[Delivery]:
    """A worker claims a batch and is killed before it records anything."""
    claimed = outbox.claim_batch()
    Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
        claimed_at=timezone.now() - outbox.STALE_CLAIM - timedelta(seconds=30))
    return claimed


def test_a_claim_left_by_a_killed_worker_is_sent_once(db, deliver):
    ana = member("Ana")
    message = notice(ana)
    (claimed,) = kill_worker_after_claim()
    assert Delivery.objects.get(pk=claimed.pk).status == "sending"
    assert deliver() == 0  # another worker does not touch a claimed delivery
    assert outbox.sweep_stale_claims() == 1
    deliver()
    assert delivery_of(message).status == "sent"
    assert ConsoleMessage.objects.filter(member=ana).count() == 1


def test_a_message_sent_just_before_the_worker_died_is_not_sent_again(db, deliver):
    ana = member("Ana")
    message = notice(ana)
    (claimed,) = kill_worker_after_claim()
    contact = ana.contacts.get(kind="sms")
    # The provider took the message; the worker died before writing down that it had.
    ConsoleSmsBackend().send(Outbound(
        delivery_id=claimed.pk, member_id=ana.pk, channel="sms", to=contact.value,
        to_masked=contact.masked, language="en", subject="", text="Meeting tonight",
        is_drill=False, kind="notice"))
    assert outbox.sweep_stale_claims() == 1
    assert delivery_of(message).status == "sent"
    assert deliver() == 0
    assert ConsoleMessage.objects.filter(member=ana).count() == 1


def test_a_claim_that_was_swept_is_not_sent_by_its_first_worker(db, deliver, traceable):
    """A slow worker whose claim went stale and was handed on must not send it as well."""
    ana = member("Ana")
    message = notice(ana)
    slow_batch = kill_worker_after_claim()  # worker A claimed it, then stalled
    assert outbox.sweep_stale_claims() == 1  # the provider never got it: queued again
    deliver()  # worker B sends it
    contacts = {(c.member_id, c.kind): c for c in ContactPoint.objects.filter(member=ana)}
    for delivery in slow_batch:  # worker A wakes up and carries on with its batch
        outbox.send_one(delivery, contacts)
    assert [m.delivery_id for m in traceable.calls] == [delivery_of(message).pk]
    assert delivery_of(message).status == "sent"


def test_a_slow_worker_still_sends_what_the_sweep_could_only_mark_unknown(db, provider):
    ana = member("Ana")
    message = notice(ana)
    slow_batch = kill_worker_after_claim()
    outbox.sweep_stale_claims()  # this provider cannot tell: unknown, never resent by others
    assert delivery_of(message).status == "unknown"
    contacts = {(c.member_id, c.kind): c for c in ContactPoint.objects.filter(member=ana)}
    for delivery in slow_batch:
        outbox.send_one(delivery, contacts)
    assert len(provider.calls) == 1
    assert delivery_of(message).status == "sent"


def test_a_stale_claim_the_provider_took_is_marked_sent(db, deliver, traceable):
    ana = member("Ana")
    message = notice(ana)
    (claimed,) = outbox.claim_batch()
    traceable.calls.append(Outbound(  # the provider took it; the worker died right after
        delivery_id=claimed.pk, member_id=ana.pk, channel="sms", to="", to_masked="",
        language="en", subject="", text="", is_drill=False, kind="notice"))
    Delivery.objects.filter(pk=claimed.pk).update(
        claimed_at=timezone.now() - outbox.STALE_CLAIM - timedelta(seconds=30))
    outbox.sweep_stale_claims()
    deliver()
    assert delivery_of(message).status == "sent"
    assert len(traceable.calls) == 1


def test_a_fresh_claim_is_left_alone_by_the_sweep(db):
    ana = member("Ana")
    message = notice(ana)
    outbox.claim_batch()
    assert outbox.sweep_stale_claims() == 0
    assert delivery_of(message).status == "sending"


def test_a_provider_that_cannot_tell_leaves_the_delivery_unknown(db, deliver, provider):
    ana = member("Ana")
    message = notice(ana)
    kill_worker_after_claim()
    assert outbox.sweep_stale_claims() == 1
    d = delivery_of(message)
    assert d.status == "unknown"
    assert deliver() == 0
    assert provider.calls == []


# --- email over SMTP --------------------------------------------------------------------


def test_an_email_goes_over_smtp_in_the_members_language(db, deliver, settings, smtp_server):
    settings.EMAIL_HOST = smtp_server.hostname
    settings.EMAIL_PORT = smtp_server.port
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "email": "rapidresponse.channels.email.smtp.SmtpEmailBackend"}
    transport_for.cache_clear()
    try:
        lupe = make_member("Lupe", "es", email="lupe@example.org")
        message = notice(lupe)
        deliver()
        assert delivery_of(message, "email").status == "sent"
        (mail,) = smtp_server.received
        assert mail["To"] == "lupe@example.org"
        assert mail["Subject"] == "Aviso"
        assert mail["Content-Language"] == "es"
        assert "Reunión esta noche" in mail.get_payload(decode=True).decode()
    finally:
        transport_for.cache_clear()
