"""The delivery engine: claim order, backoff with jitter, lost outcomes reconciled before
anything is resent, dead letters with a retry button, and the member's next channel."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapidresponse.channels.sms.console import ConsoleSmsBackend
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import PRIORITY, ConsoleMessage, Delivery, Kind, Message
from rapidresponse.delivery.transport import Outbound, drill_transport_for, transport_for
from rapidresponse.jobs import runner
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import make_member, sign_in
from tests.engine_support import Reply, SignalStub, add_contact, running

BODIES = {"en": {"subject": "Notice", "text": "Meeting tonight"},
          "es": {"subject": "Aviso", "text": "Reunión esta noche"}}
_numbers = itertools.count(3000)


def member(name: str, *, email: bool = False, language: str = "en") -> Member:
    return make_member(name, language, phone=f"+1213555{next(_numbers):04d}",
                       email=f"{name.lower()}@example.org" if email else "")


def queue(kind: str, recipients: list[tuple[Member, int]], channel: str = "sms") -> Message:
    message = outbox.create_message(kind, BODIES, is_drill=False)
    outbox.add_deliveries(message, [(m, channel, rank) for m, rank in recipients])
    return message


def due_now(**filters: Any) -> None:
    Delivery.objects.filter(**filters).update(next_attempt_at=timezone.now()
                                              - timedelta(seconds=1))


@pytest.fixture
def signal_api(settings: Any) -> Iterator[SignalStub]:
    with running(SignalStub()) as stub:
        settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                     "signal": settings.CHANNEL_BACKEND_NAMES["signal"][
                                         "signal-cli"]}
        settings.SIGNAL_API_URL = stub.url
        settings.SIGNAL_NUMBER = "+13235550100"
        settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "signal": 1000.0}
        settings.TOKEN_BUCKET_PREFIX = f"test:{uuid.uuid4().hex}:"
        settings.OUTBOUND_HTTP_TIMEOUT = 0.5
        transport_for.cache_clear()
        yield stub
    transport_for.cache_clear()
    drill_transport_for.cache_clear()


def on_signal(m: Member, *, verified: bool = True) -> ContactPoint:
    return add_contact(m, "signal", m.contacts.get(kind="sms").value, verified=verified)


# --- priority ------------------------------------------------------------------------------


def test_claims_take_alerts_then_dispatch_then_reminders_then_broadcasts(db):
    people = [member(f"P{i}") for i in range(8)]
    queue("broadcast", [(people[0], 0)])
    queue("reminder", [(people[1], 0)])
    queue("dispatch", [(people[2], 0)])
    alert = queue("alert", [(people[3], 2), (people[4], 0), (people[5], 1)])
    queue("notice", [(people[6], 0)])
    correction = queue("correction", [(people[7], 5)])
    order = []
    while batch := outbox.claim_batch(limit=2):
        order += [(d.message.kind, d.member.name) for d in batch]
    assert order == [("alert", "P4"), ("alert", "P5"), ("alert", "P3"), ("correction", "P7"),
                     ("dispatch", "P2"), ("reminder", "P1"), ("broadcast", "P0"),
                     ("notice", "P6")]
    assert alert.priority < PRIORITY[Kind.DISPATCH] < PRIORITY[Kind.REMINDER] \
        < PRIORITY[Kind.BROADCAST]
    assert correction.priority == alert.priority


def test_a_retry_that_is_due_goes_before_less_urgent_work(db):
    early, late = member("Early"), member("Late")
    queue("broadcast", [(early, 0)])
    retry = queue("alert", [(late, 3)])
    Delivery.objects.filter(message=retry).update(attempts=2, next_attempt_at=timezone.now())
    first = outbox.claim_batch(limit=1)
    assert [d.member.name for d in first] == ["Late"]


def test_a_retry_not_yet_due_waits_its_turn(db):
    later = member("Later")
    waiting = queue("alert", [(later, 0)])
    Delivery.objects.filter(message=waiting).update(
        next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert outbox.claim_batch() == []


# --- backoff -------------------------------------------------------------------------------


def test_retries_back_off_exponentially_with_jitter(db, signal_api, deliver):
    people = [member(f"M{i}") for i in range(12)]
    for m in people:
        on_signal(m)
    signal_api.script = [Reply(500, {"error": "busy"}) for _ in range(24)]
    message = queue("notice", [(m, 0) for m in people], channel="signal")
    rows = Delivery.objects.filter(message=message)

    def waits() -> list[float]:
        return [(d.next_attempt_at - d.updated_at).total_seconds() for d in rows.all()]

    deliver()
    first = waits()
    assert all(8.0 <= w <= 12.0 for w in first)  # 10 s ± 20 %
    assert len({round(w, 3) for w in first}) > 1  # not all at the same instant
    due_now(message=message)
    deliver()
    second = waits()
    assert all(16.0 <= w <= 24.0 for w in second)  # 20 s ± 20 %
    assert set(rows.values_list("attempts", flat=True)) == {2}


# --- lost outcomes -----------------------------------------------------------------------


def lost_send(m: Member, *, provider_took_it: bool) -> Delivery:
    """A delivery whose worker died after claiming it (and perhaps after sending it)."""
    message = outbox.send_to_member(m, "notice", BODIES)
    (claimed,) = outbox.claim_batch()
    if provider_took_it:
        contact = m.contacts.get(kind="sms")
        ConsoleSmsBackend().send(Outbound(
            delivery_id=claimed.pk, member_id=m.pk, channel="sms", to=contact.value,
            to_masked=contact.masked, language="en", subject="", text="Meeting tonight",
            is_drill=False, kind="notice"))
    Delivery.objects.filter(pk=claimed.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=121))
    return Delivery.objects.get(message=message)


def test_a_lease_shorter_than_the_default_is_honoured(db, settings):
    settings.DELIVERY_LEASE_SECONDS = 30
    ana = member("Ana")
    outbox.send_to_member(ana, "notice", BODIES)
    (claimed,) = outbox.claim_batch()
    Delivery.objects.filter(pk=claimed.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=20))
    assert outbox.sweep_stale_claims() == 0
    Delivery.objects.filter(pk=claimed.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=31))
    assert outbox.sweep_stale_claims() == 1


def test_an_unknown_send_the_provider_has_is_marked_sent_without_resending(db, deliver):
    ana = member("Ana")
    delivery = lost_send(ana, provider_took_it=True)
    Delivery.objects.filter(pk=delivery.pk).update(status="unknown", attempts=1,
                                                   next_attempt_at=timezone.now())
    assert outbox.reconcile_unknown() == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    deliver()
    assert ConsoleMessage.objects.filter(member=ana).count() == 1


def test_an_unknown_send_the_provider_never_got_is_sent_once(db, deliver):
    ana = member("Ana")
    delivery = lost_send(ana, provider_took_it=False)
    Delivery.objects.filter(pk=delivery.pk).update(status="unknown", attempts=1,
                                                   next_attempt_at=timezone.now())
    assert outbox.reconcile_unknown() == 1
    assert Delivery.objects.get(pk=delivery.pk).status == "queued"
    deliver()
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"
    assert ConsoleMessage.objects.filter(member=ana).count() == 1


def test_an_unknown_send_is_not_asked_about_before_its_time(db):
    ana = member("Ana")
    delivery = lost_send(ana, provider_took_it=False)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="unknown", next_attempt_at=timezone.now() + outbox.RECONCILE_DELAY)
    assert outbox.reconcile_unknown() == 0
    assert Delivery.objects.get(pk=delivery.pk).status == "unknown"


def test_an_unknown_send_after_the_last_attempt_is_dead_lettered(db, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    ana = member("Ana")
    delivery = lost_send(ana, provider_took_it=False)
    Delivery.objects.filter(pk=delivery.pk).update(status="unknown", attempts=2,
                                                   next_attempt_at=timezone.now())
    outbox.reconcile_unknown()
    assert Delivery.objects.get(pk=delivery.pk).status == "dead"
    assert not ConsoleMessage.objects.exists()


def test_the_worker_reconciles_stale_and_unknown_sends_on_its_timer(db):
    ana, ben = member("Ana"), member("Ben")
    stale = lost_send(ana, provider_took_it=True)
    unknown = lost_send(ben, provider_took_it=False)
    Delivery.objects.filter(pk=unknown.pk).update(status="unknown", attempts=1,
                                                  next_attempt_at=timezone.now())
    runner.run_due({}, 0.0)
    assert Delivery.objects.get(pk=stale.pk).status == "sent"
    assert Delivery.objects.get(pk=unknown.pk).status == "sent"
    assert ConsoleMessage.objects.filter(member=ana).count() == 1
    assert ConsoleMessage.objects.filter(member=ben).count() == 1


# --- the member's next channel -------------------------------------------------------------


def unregistered(signal_api: SignalStub) -> None:
    signal_api.script = [Reply(400, {"error": "Failed to send message: Unregistered user"})]


def signal_notice(m: Member, kind: str = "notice") -> Message:
    return outbox.send_to_member(m, kind, BODIES, channels=["signal"])


def test_a_permanent_failure_moves_to_the_first_channel_in_the_fallback_order(
        db, signal_api, deliver):
    ana = member("Ana", email=True)
    on_signal(ana)
    unregistered(signal_api)
    message = signal_notice(ana)
    deliver()
    rows = dict(Delivery.objects.filter(message=message).values_list("channel", "status"))
    assert rows == {"signal": "failed", "sms": "sent"}  # sms comes before email


def test_the_fallback_skips_channels_the_member_turned_off(db, signal_api, deliver):
    ana = member("Ana", email=True)
    on_signal(ana)
    ContactPoint.objects.filter(member=ana, kind="sms").update(enabled=False)
    unregistered(signal_api)
    message = signal_notice(ana)
    deliver()
    rows = dict(Delivery.objects.filter(message=message).values_list("channel", "status"))
    assert rows == {"signal": "failed", "email": "sent"}


def test_the_fallback_skips_unverified_and_used_channels(db, signal_api, deliver):
    ana = member("Ana", email=True)
    on_signal(ana)
    ContactPoint.objects.filter(member=ana, kind="email").update(verified_at=None)
    unregistered(signal_api)
    message = outbox.send_to_member(ana, "notice", BODIES, channels=["signal", "sms"])
    deliver()
    rows = dict(Delivery.objects.filter(message=message).values_list("channel", "status"))
    assert rows == {"signal": "failed", "sms": "sent"}
    assert ConsoleMessage.objects.filter(member=ana).count() == 1


def test_a_dead_letter_also_moves_to_the_next_channel(db, signal_api, deliver, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 1
    ana = member("Ana")
    on_signal(ana)
    signal_api.script = [Reply(500, {"error": "signal-cli crashed"})]
    message = signal_notice(ana)
    deliver()
    rows = dict(Delivery.objects.filter(message=message).values_list("channel", "status"))
    assert rows == {"signal": "dead", "sms": "sent"}


def test_a_confirmation_code_never_moves_to_another_channel(db, signal_api, deliver):
    ana = member("Ana", email=True)
    on_signal(ana)
    unregistered(signal_api)
    message = signal_notice(ana, kind="confirmation")
    deliver()
    assert list(Delivery.objects.filter(message=message).values_list("channel", flat=True)) \
        == ["signal"]


def test_with_no_other_channel_nothing_more_is_queued(db, signal_api, deliver):
    ana = member("Ana")
    on_signal(ana)
    ContactPoint.objects.filter(member=ana, kind="sms").update(disabled_at=timezone.now())
    unregistered(signal_api)
    message = signal_notice(ana)
    deliver()
    assert list(Delivery.objects.filter(message=message).values_list("status", flat=True)) \
        == ["failed"]


# --- dead letters in the console -----------------------------------------------------------


@pytest.fixture
def dead(db: Any, signal_api: SignalStub, deliver: Any, settings: Any) -> Delivery:
    settings.DELIVERY_MAX_ATTEMPTS = 1
    ana = member("Ana")
    on_signal(ana)
    ContactPoint.objects.filter(member=ana, kind="sms").update(enabled=False)
    signal_api.script = [Reply(500, {"error": "signal-cli crashed"})]
    deliver()  # nothing yet
    message = signal_notice(ana)
    deliver()
    return Delivery.objects.get(message=message, channel="signal")


def test_staff_see_dead_letters_with_the_reason(dead, dispatcher):
    assert dead.status == "dead"
    page = dispatcher.client.get("/console/deliveries/dead/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="delivery-{dead.pk}"' in html
    assert "signal-cli 500: signal-cli crashed" in html
    assert "Send again" in html


def test_the_dead_letter_page_is_in_spanish(dead, dispatcher):
    dispatcher.client.cookies["django_language"] = "es"
    html = dispatcher.client.get("/console/deliveries/dead/",
                                 HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mensajes no entregados" in html
    assert "Enviar de nuevo" in html


def test_the_retry_button_sends_it_again(dead, dispatcher, signal_api, deliver):
    response = dispatcher.client.post(f"/console/deliveries/{dead.pk}/retry/")
    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("queued", 0)
    deliver()
    dead.refresh_from_db()
    assert dead.status == "sent"
    assert len(signal_api.sent()) == 2
    html = dispatcher.client.get("/console/deliveries/dead/").content.decode()
    assert f'id="delivery-{dead.pk}"' not in html


def test_retrying_something_already_sent_changes_nothing(dead, dispatcher, deliver):
    dispatcher.client.post(f"/console/deliveries/{dead.pk}/retry/")
    deliver()
    response = dispatcher.client.post(f"/console/deliveries/{dead.pk}/retry/", follow=True)
    assert "nothing was changed" in response.content.decode()
    assert Delivery.objects.get(pk=dead.pk).status == "sent"


def test_retry_needs_a_post_with_the_csrf_token(dead, dispatcher):
    assert dispatcher.client.get(f"/console/deliveries/{dead.pk}/retry/").status_code == 405
    strict = sign_in(Client(enforce_csrf_checks=True), dispatcher.user)
    assert strict.post(f"/console/deliveries/{dead.pk}/retry/").status_code == 403
    assert Delivery.objects.get(pk=dead.pk).status == "dead"


def test_dead_letters_are_for_console_staff_only(dead, verifier, outsider):
    assert verifier.client.get("/console/deliveries/dead/").status_code == 403
    assert verifier.client.post(f"/console/deliveries/{dead.pk}/retry/").status_code == 403
    response = outsider.get("/console/deliveries/dead/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert outsider.post(f"/console/deliveries/{dead.pk}/retry/").status_code == 302
    assert Delivery.objects.get(pk=dead.pk).status == "dead"


def test_retrying_an_unknown_delivery_is_logged(dead, coordinator):
    from rapidresponse.accounts.models import AuditEntry

    Delivery.objects.filter(pk=dead.pk).update(status="unknown")
    coordinator.client.post(f"/console/deliveries/{dead.pk}/retry/")
    entry = AuditEntry.objects.get(action="delivery_retry")
    assert (entry.object_id, entry.from_state, entry.to_state) == (dead.pk, "unknown", "queued")
    assert entry.actor == coordinator.user


# --- sending on several threads --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_drain_on_several_threads_sends_each_delivery_once(settings):
    if not outbox.shares_rows_across_threads():
        pytest.skip("an in-memory SQLite test database cannot be shared by threads "
                    "(test_rq_workers runs threaded workers on a SQLite file)")
    settings.DELIVERY_CONCURRENCY = 4
    people = [member(f"T{i}") for i in range(60)]
    message = outbox.create_message("alert", BODIES, is_drill=False)
    now = timezone.now()
    # Rows only (no task): the drain below is the one that sends them.
    Delivery.objects.bulk_create([
        Delivery(message=message, member=m, channel="sms", language="en", rank=i % 5,
                 next_attempt_at=now, created_at=now, updated_at=now)
        for i, m in enumerate(people)])
    assert outbox.drain() == 60
    assert set(Delivery.objects.filter(message=message).values_list("status", flat=True)) \
        == {"sent"}
    assert ConsoleMessage.objects.count() == 60
    assert ConsoleMessage.objects.values("delivery").distinct().count() == 60


@pytest.mark.django_db(transaction=True)
def test_a_drain_of_several_batches_sends_them_all_and_leaves_nothing_claimed(settings):
    """The next batch is claimed while the last of the one before is still being sent, so
    one chunk of jobs can hold deliveries of two claims: each is renewed under its own."""
    if not outbox.shares_rows_across_threads():
        pytest.skip("an in-memory SQLite test database cannot be shared by threads")
    from rapidresponse.lib import crypto
    from rapidresponse.members.contacts import index_for

    settings.DELIVERY_CONCURRENCY = 4
    count = 2 * outbox.BATCH + 50
    now = timezone.now()
    people = Member.objects.bulk_create([
        Member(name=f"B{i}", language="en", status=Member.Status.ACTIVE,
               source=Member.Source.IMPORT, consent_at=now) for i in range(count)])
    ContactPoint.objects.bulk_create([
        ContactPoint(member=m, kind="sms", value_encrypted=crypto.encrypt(f"+1213700{i:04d}"),
                     blind_index=index_for("sms", f"+1213700{i:04d}"), verified_at=now)
        for i, m in enumerate(people)])
    message = outbox.create_message("alert", BODIES, is_drill=False)
    Delivery.objects.bulk_create([
        Delivery(message=message, member=m, channel="sms", language="en", rank=i,
                 next_attempt_at=now, created_at=now, updated_at=now)
        for i, m in enumerate(people)])
    assert outbox.drain() == count
    assert set(Delivery.objects.filter(message=message).values_list("status", flat=True)) \
        == {"sent"}
    assert ConsoleMessage.objects.values("delivery").distinct().count() == count


def test_renewing_deliveries_of_two_claims_at_once_keeps_both(db):
    from rapidresponse.delivery.outbox import claims

    queue("alert", [(member("First"), 0), (member("Second"), 1)])
    (first,) = outbox.claim_batch(limit=1)
    (second,) = outbox.claim_batch(limit=1)
    assert first.claim != second.claim
    ours, settled = claims.renew([first, second])
    assert ours == {first.pk, second.pk}
    assert settled == 0
