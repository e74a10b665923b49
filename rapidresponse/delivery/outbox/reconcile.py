"""Lost outcomes: a send that timed out, or whose worker died, is asked about at the provider
(Transport.reconcile) before anything is resent, then marked sent, queued again, or (when
the provider can never tell) dead-lettered for staff with the member's next channel.

A provider's message id belongs to one delivery only (a unique constraint per channel). A
reconcile only guesses which message is a delivery's (Twilio: by number and time), so two
sweeps, or a sweep and a send not yet written down, may guess the same message: whoever
writes it second is refused by the constraint and the delivery is asked about again later,
never marked sent; a send's own answer or a status callback takes the id from a guess
(writes.take_provider_id).

Each sweep has a time budget (SWEEP_BUDGET_S, every provider request's timeout capped by
what is left of it), so that a provider that hangs holds up the worker's other periodic jobs
(retries, incident expiry, retention) by a few seconds at most; what is left waits for the
next run."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.delivery.outbox.claims import lease
from rapidresponse.delivery.outbox.enqueue import schedule_drain
from rapidresponse.delivery.outbox.fallback import fall_back
from rapidresponse.delivery.outbox.outcomes import RECONCILE_DELAY
from rapidresponse.delivery.outbox.writes import write
from rapidresponse.delivery.transport import Attempt, Reconciled, transport
from rapidresponse.lib import http
from rapidresponse.members.models import ContactPoint

log = logging.getLogger(__name__)

# A delivery whose fate the provider cannot tell for this long is dead-lettered for staff.
UNKNOWN_GIVE_UP = timedelta(hours=1)
# Deliveries a sweep looks at in one run (most urgent first); the rest wait for the next.
SWEEP_LIMIT = 500
# Seconds a sweep may spend asking providers in one run.
SWEEP_BUDGET_S = 2.0


def attempt_of(delivery: Delivery) -> Attempt:
    contact = ContactPoint.objects.filter(member_id=delivery.member_id,
                                          kind=delivery.channel).first()
    try:
        to = contact.value if contact is not None and contact.value_encrypted else ""
    except ValueError:
        to = ""
    text = delivery.message.body(delivery.language).get("text", "")
    return Attempt(delivery_id=delivery.pk, provider_id=delivery.provider_id, to=to,
                   started_at=delivery.claimed_at, text=text)


def _ask_provider(delivery: Delivery, until: float) -> str | None:
    backend = transport(delivery.channel, is_drill=delivery.message.is_drill)
    try:
        with http.deadline(until):
            return backend.reconcile(attempt_of(delivery))
    except Exception:  # the provider cannot be asked now: it stays as it is, asked again later
        log.exception("delivery %s: reconcile failed", delivery.pk)
        return None


def _found(verdict: str) -> dict[str, str]:
    """The provider's id for the message a reconcile found, to be recorded with it."""
    if isinstance(verdict, Reconciled) and verdict.provider_id:
        return {"provider_id": verdict.provider_id[:100]}
    return {}


def _settle(delivery: Delivery, where: dict[str, Any], fields: dict[str, Any], *,
            dead: bool = False) -> int:
    """Write a reconcile's verdict if nobody touched the delivery meanwhile (`where`), with
    the member's next channel when it is given up. A provider id another delivery already
    has is a lost race: this delivery is left `unknown`, asked again later."""
    def run() -> int:
        with transaction.atomic():
            n = Delivery.objects.filter(pk=delivery.pk, **where).update(**fields)
            if n and dead:
                fall_back(delivery)
            return n
    try:
        return write(run)
    except IntegrityError:
        log.warning("delivery %s: the provider's message was already another delivery's",
                    delivery.pk)
        now = timezone.now()
        return write(lambda: Delivery.objects.filter(pk=delivery.pk, **where).update(
            status=Status.UNKNOWN, next_attempt_at=now + RECONCILE_DELAY, updated_at=now,
            error="matched a provider message another delivery has: asked again"))


def sweep_stale_claims(budget_s: float = SWEEP_BUDGET_S) -> int:
    """Deliveries claimed by a worker that died: reconcile with the provider, never resend
    blindly. Backends that cannot tell leave the delivery as 'unknown' (asked again later,
    then dead-lettered for staff). Spends at most `budget_s` seconds asking."""
    until = time.monotonic() + budget_s
    cutoff = timezone.now() - lease()
    fixed = 0
    stale = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).select_related(
        "message").order_by("priority", "rank", "id")[:SWEEP_LIMIT]
    for delivery in stale:
        if time.monotonic() >= until:
            break
        verdict = _ask_provider(delivery, until)
        now = timezone.now()
        if verdict == "sent":
            fields: dict[str, Any] = {"status": Status.SENT, "sent_at": now, "error": "",
                                      **_found(verdict)}
        elif verdict == "failed":
            fields = {"status": Status.QUEUED, "next_attempt_at": now}
        else:
            fields = {"status": Status.UNKNOWN, "error": "worker stopped during send",
                      "next_attempt_at": now + RECONCILE_DELAY}
        # Only if nobody touched it meanwhile (a slow worker renewing its claim, another sweep).
        fixed += _settle(delivery, {"status": Status.SENDING, "claim": delivery.claim,
                                    "claimed_at": delivery.claimed_at},
                         {"updated_at": now, **fields})
    if fixed:
        schedule_drain()
    return fixed


def reconcile_unknown(budget_s: float = SWEEP_BUDGET_S) -> int:
    """Deliveries whose send timed out (or whose worker died): ask the provider, then mark
    them sent, queue them again, or, when it never can tell, dead-letter them (with the
    member's next channel). Spends at most `budget_s` seconds asking."""
    until = time.monotonic() + budget_s
    due = Delivery.objects.filter(status=Status.UNKNOWN,
                                  next_attempt_at__lte=timezone.now()).select_related(
        "message").order_by("priority", "rank", "id")[:SWEEP_LIMIT]
    changed = 0
    requeued = 0
    for delivery in due:
        if time.monotonic() >= until:
            break
        verdict = _ask_provider(delivery, until)
        now = timezone.now()
        dead = False
        if verdict == "sent":
            fields: dict[str, Any] = {"status": Status.SENT, "sent_at": now, "error": "",
                                      **_found(verdict)}
        elif verdict == "failed" and delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            fields = {"status": Status.DEAD}
            dead = True
        elif verdict == "failed":
            fields = {"status": Status.QUEUED, "next_attempt_at": now}
        elif delivery.claimed_at is None or delivery.claimed_at < now - UNKNOWN_GIVE_UP:
            fields = {"status": Status.DEAD,
                      "error": ("outcome unknown: the provider cannot tell whether it was "
                                "sent")}
            dead = True
        else:
            fields = {"next_attempt_at": now + max(RECONCILE_DELAY, timedelta(minutes=1))}
        n = _settle(delivery, {"status": Status.UNKNOWN, "claim": delivery.claim,
                               "next_attempt_at": delivery.next_attempt_at},
                    {"updated_at": now, **fields}, dead=dead)
        if n and fields.get("status") is not None:
            changed += 1
            requeued += fields["status"] == Status.QUEUED
    if requeued:
        schedule_drain()
    return changed
