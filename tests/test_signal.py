"""Signal through a signal-cli REST API, against a real HTTP server on loopback."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Message
from rapidresponse.delivery.transport import drill_transport_for, transport_for
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import make_member
from tests.engine_support import Reply, SignalStub, add_contact, running

NETWORK_NUMBER = "+13235550100"
BODIES = {"en": {"subject": "Notice", "text": "Meeting tonight"},
          "es": {"subject": "Aviso", "text": "Reunión esta noche"}}
_numbers = itertools.count(2000)


@pytest.fixture
def signal_api(settings: Any) -> Iterator[SignalStub]:
    with running(SignalStub()) as stub:
        settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                     "signal": settings.CHANNEL_BACKEND_NAMES["signal"][
                                         "signal-cli"]}
        settings.SIGNAL_API_URL = stub.url
        settings.SIGNAL_NUMBER = NETWORK_NUMBER
        settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "signal": 1000.0}
        settings.TOKEN_BUCKET_PREFIX = f"test:{uuid.uuid4().hex}:"
        settings.OUTBOUND_HTTP_TIMEOUT = 0.5
        transport_for.cache_clear()
        yield stub
    transport_for.cache_clear()
    drill_transport_for.cache_clear()


def signal_member(name: str = "Rosa", language: str = "es") -> tuple[Member, str]:
    number = f"+1213555{next(_numbers):04d}"
    member = make_member(name, language, phone=number)
    add_contact(member, "signal", number)
    return member, number


def notice_on_signal(member: Member, is_drill: bool = False) -> Delivery:
    message = outbox.send_to_member(member, "notice", BODIES, channels=["signal"],
                                    is_drill=is_drill)
    return Delivery.objects.get(message=message, channel="signal")


def test_a_signal_message_is_posted_to_the_api(db, signal_api, deliver):
    rosa, number = signal_member()
    delivery = notice_on_signal(rosa)
    deliver()
    (sent,) = signal_api.sent()
    assert sent == {"message": "Aviso\n\nReunión esta noche", "number": NETWORK_NUMBER,
                    "recipients": [number]}
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert delivery.provider_id.startswith("signal-")


def test_an_unregistered_user_is_permanent_and_the_member_gets_sms_instead(
        db, signal_api, deliver):
    rosa, number = signal_member()
    signal_api.script = [Reply(400, {"error": f'Failed to send message: Unregistered user '
                                              f'"{number}"'})]
    delivery = notice_on_signal(rosa)
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert number not in delivery.error  # errors are stored: no numbers in them
    signal = ContactPoint.objects.get(member=rosa, kind="signal")
    assert signal.disabled_at is not None
    fallback = Delivery.objects.get(message=delivery.message, channel="sms")
    assert fallback.status == "sent"
    assert ConsoleMessage.objects.get(delivery=fallback).text == "Reunión esta noche"


def test_a_signal_server_error_is_retried(db, signal_api, deliver):
    rosa, _ = signal_member()
    signal_api.script = [Reply(500, {"error": "signal-cli crashed"})]
    delivery = notice_on_signal(rosa)
    deliver()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert ContactPoint.objects.get(member=rosa, kind="signal").disabled_at is None
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    deliver()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(signal_api.sent()) == 2


def test_our_own_number_not_registered_is_not_the_members_fault(db, signal_api, deliver):
    rosa, _ = signal_member()
    signal_api.script = [Reply(400, {"error": f"User {NETWORK_NUMBER} is not registered.\n"})]
    delivery = notice_on_signal(rosa)
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "queued"
    assert ContactPoint.objects.get(member=rosa, kind="signal").disabled_at is None


def test_a_rate_limited_answer_waits_before_trying_again(db, signal_api, deliver):
    rosa, _ = signal_member()
    signal_api.script = [Reply(413, {"error": "RateLimitException: too many messages"})]
    delivery = notice_on_signal(rosa)
    before = timezone.now()
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "queued"
    assert delivery.next_attempt_at >= before + timedelta(seconds=59)


def test_a_timed_out_send_is_unknown_and_never_sent_blind(db, signal_api, deliver):
    rosa, _ = signal_member()
    signal_api.script = [Reply(201, {"timestamp": "1"}, delay=1.5)]
    delivery = notice_on_signal(rosa)
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "unknown"
    # The API cannot say what became of it: asked again later, never resent meanwhile.
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    outbox.reconcile_unknown()
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "unknown"
    assert len(signal_api.sent()) == 1


def test_a_send_that_stays_unknown_is_dead_lettered_in_the_end(db, signal_api, deliver):
    rosa, _ = signal_member()
    signal_api.script = [Reply(201, {"timestamp": "1"}, delay=1.5)]
    delivery = notice_on_signal(rosa)
    deliver()
    long_ago = timezone.now() - outbox.UNKNOWN_GIVE_UP - timedelta(minutes=1)
    Delivery.objects.filter(pk=delivery.pk).update(claimed_at=long_ago, next_attempt_at=long_ago)
    outbox.reconcile_unknown()
    delivery.refresh_from_db()
    assert delivery.status == "dead"
    assert "unknown" in delivery.error
    assert len(signal_api.sent()) == 1


def test_without_configuration_signal_fails_and_says_why(db, signal_api, deliver, settings):
    settings.SIGNAL_API_URL = ""
    rosa, _ = signal_member()
    delivery = notice_on_signal(rosa)
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "queued"
    assert "SIGNAL_API_URL" in delivery.error
    assert signal_api.requests == []


def test_a_signal_drill_never_reaches_the_api(db, signal_api, deliver):
    rosa, _ = signal_member()
    delivery = notice_on_signal(rosa, is_drill=True)
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert signal_api.requests == []
    assert ConsoleMessage.objects.get(delivery=delivery).channel == "signal"


def test_signal_waits_for_its_own_rate_limit(db, signal_api, deliver, settings):
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "signal": 4.0,
                                    "sms": 1000.0}
    members = [signal_member(f"M{i}")[0] for i in range(7)]
    message = outbox.create_message("notice", BODIES, is_drill=False)
    outbox.add_deliveries(message, [(m, "signal", 0) for m in members])
    started = time.monotonic()
    deliver()
    waited = time.monotonic() - started
    assert set(Delivery.objects.filter(message=message).values_list("status", flat=True)) == {
        "sent"}
    assert len(signal_api.sent()) == 7
    # A bucket of 4 tokens refilled at 4 a second: the last three had to wait their turn.
    assert waited >= (7 - 4) / 4.0 * 0.95
    assert Message.objects.count() == 1
