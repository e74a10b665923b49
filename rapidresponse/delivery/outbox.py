"""The outbox: messages and deliveries written with the action that caused them, delivered
by the worker. Tasks carry no message content, so a lost task or killed worker loses nothing:
the rows are the truth and the sweep picks up whatever a task did not finish.

A delivery's life:

    queued --claim--> sending --provider took it--> sent
                         |--transient error--> queued (later, backoff with jitter)
                         |--permanent error--> failed (+ the member's next channel)
                         |--last attempt failed--> dead (+ the member's next channel)
                         `--timed out / worker died--> unknown --reconcile--> sent | queued | dead

Nothing in `sending` or `unknown` is sent again before the provider has been asked whether
it already has it (Transport.reconcile)."""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Field, Q
from django.utils import timezone

from rapidresponse.delivery.models import PRIORITY, Delivery, Kind, Message, Status
from rapidresponse.delivery.transport import (
    Attempt,
    Outbound,
    Transport,
    TransportError,
    transport,
)
from rapidresponse.lib.ratelimit import TokenBucket
from rapidresponse.members.models import ContactPoint, Member

log = logging.getLogger(__name__)

BATCH = 200
# The default lease (settings.DELIVERY_LEASE_SECONDS): a claim older than this whose worker
# has not finished it is taken to belong to a dead worker.
STALE_CLAIM = timedelta(seconds=120)
# How long after a time-out the provider is asked what became of the message.
RECONCILE_DELAY = timedelta(seconds=15)
# A delivery whose fate the provider cannot tell for this long is dead-lettered for staff.
UNKNOWN_GIVE_UP = timedelta(hours=1)
# When a channel fails for good, the member gets the message on the next of these that they
# have enabled and verified and that has not been used for this message yet.
FALLBACK_ORDER = ("sms", "push", "signal", "email")
# What a send returns when the worker gave the delivery back unsent (no token in time).
RELEASED = "released"
# Deliveries a sweep asks the provider about in one run (most urgent first); the rest wait
# for the next run, so the worker's timer is never held up for long.
SWEEP_LIMIT = 500


def lease() -> timedelta:
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def batch_seconds() -> float:
    """A worker gives back what it has not started after this long, well inside its lease,
    so that nothing it holds looks abandoned and newer urgent work is claimed first."""
    return max(1.0, min(30.0, settings.DELIVERY_LEASE_SECONDS / 4))


def create_message(kind: str, bodies: dict[str, dict[str, str]], *, is_drill: bool) -> Message:
    return Message.objects.create(kind=kind, priority=PRIORITY[Kind(kind)], bodies=bodies,
                                  is_drill=is_drill)


def add_deliveries(message: Message, recipients: Iterable[tuple[Member, str, int]]) -> int:
    """Queue one delivery per (member, channel); rank orders them (nearest first)."""
    now = timezone.now()
    rows = [
        Delivery(message=message, member=member, channel=channel, language=member.language,
                 priority=message.priority, rank=rank, next_attempt_at=now, created_at=now,
                 updated_at=now)
        for member, channel, rank in recipients
    ]
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    schedule_drain()
    return len(rows)


def send_to_member(member: Member, kind: str, bodies: dict[str, dict[str, str]], *,
                   channels: Iterable[str] | None = None, is_drill: bool = False) -> Message:
    """A message for one member on their enabled channels (or the channels given)."""
    message = create_message(kind, bodies, is_drill=is_drill)
    contacts = member.contacts.filter(disabled_at__isnull=True)
    if channels is not None:
        contacts = contacts.filter(kind__in=list(channels))
    else:
        contacts = contacts.filter(enabled=True)
    add_deliveries(message, [(member, c.kind, 0) for c in contacts])
    return message


def schedule_drain() -> None:
    from rapidresponse.delivery.tasks import drain_outbox

    # robust: a task queue that cannot be reached (Redis down) must not turn the action that
    # was just committed into an error page; the worker's timer drains the outbox anyway.
    transaction.on_commit(lambda: drain_outbox.enqueue(), robust=True)


def delivery_counts(message_ids: Iterable[int]) -> dict[str, int]:
    rows = (Delivery.objects.filter(message_id__in=list(message_ids))
            .values("status").annotate(n=Count("id")))
    return {row["status"]: row["n"] for row in rows}


# --- the worker side -------------------------------------------------------------------


def claim_batch(limit: int = BATCH) -> list[Delivery]:
    """Atomically mark up to `limit` due deliveries as ours, most urgent and nearest first."""
    token = secrets.token_hex(8)
    now = timezone.now()
    with transaction.atomic():
        due = (Delivery.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
               .order_by("priority", "rank", "id"))
        if connection.vendor == "postgresql":
            ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
        else:
            ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Delivery.objects.filter(id__in=ids, status=Status.QUEUED).update(
            status=Status.SENDING, claim=token, claimed_at=now, updated_at=now)
    return list(Delivery.objects.filter(claim=token, status=Status.SENDING)
                .select_related("message", "member").order_by("priority", "rank", "id"))


def release(token: str, ids: list[int]) -> int:
    """Give back claimed deliveries that were never started: queued again, untouched."""
    if not ids:
        return 0
    return _write(lambda: Delivery.objects.filter(
        id__in=ids, claim=token, status=Status.SENDING,
    ).update(status=Status.QUEUED, claim="", claimed_at=None, updated_at=timezone.now()))


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential (10 s, 20 s, 40 s, ... at most an hour) with ±20 % jitter, so that a
    provider's outage does not end in every worker retrying at the same instant."""
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    base = min(3600.0, 10.0 * (2 ** (attempts - 1)))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _write(update: Callable[[], int]) -> int:
    """A row update that survives a briefly locked database (SQLite under several writers)."""
    for attempt in range(5):
        try:
            return update()
        except OperationalError:
            if attempt == 4 or connection.in_atomic_block:
                raise
            time.sleep(0.05 * (attempt + 1))
    return 0


def _update(sql: str, params: list[Any]) -> int:
    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)
    return _write(run)


def _field(name: str) -> Field[Any, Any]:
    field = Delivery._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _db(name: str, value: Any) -> Any:
    return _field(name).get_db_prep_save(value, connection)


def _finish(delivery: Delivery, **fields: object) -> int:
    """Record an outcome, if the delivery is still under our claim. Two statements run per
    send (this and _still_ours): plain SQL, which is a good part of a send's own cost."""
    fields["updated_at"] = timezone.now()
    names = sorted(fields)
    # Column names come from the model's own fields (get_field raises for anything else).
    columns = ", ".join(f"{connection.ops.quote_name(_field(n).column)} = %s" for n in names)
    sql = f"UPDATE delivery_delivery SET {columns} WHERE id = %s AND claim = %s"  # noqa: S608
    return _update(sql, [_db(n, fields[n]) for n in names] + [delivery.pk, delivery.claim])


_RENEW_SQL = (
    "UPDATE delivery_delivery SET status = %s, claimed_at = %s "
    "WHERE id = %s AND claim = %s AND status IN (%s, %s) "
    "AND (%s OR NOT EXISTS (SELECT 1 FROM members_member m WHERE m.id = %s AND m.status = %s))")


def _still_ours(delivery: Delivery) -> bool:
    """Renew our claim just before sending. False when the stale-claim sweep has handed the
    delivery on (queued again, or found already sent): then it is not ours to send. Also
    False when the member opted out (an SMS STOP) after the batch was claimed: the caller
    then finds it still ours and skips it."""
    return bool(_update(_RENEW_SQL, [
        Status.SENDING, _db("claimed_at", timezone.now()), delivery.pk, delivery.claim,
        Status.SENDING, Status.UNKNOWN, delivery.message.kind == Kind.CONFIRMATION,
        delivery.member_id, Member.Status.OPTED_OUT]))


def _bucket(backend: Transport, outbound: Outbound) -> TokenBucket | None:
    """Live providers are sent to no faster than CHANNEL_RATE_LIMITS allows; the console
    backends only record, so they are not limited."""
    if not backend.is_live:
        return None
    rate = float(settings.CHANNEL_RATE_LIMITS.get(outbound.channel, 0) or 0)
    return TokenBucket(backend.rate_limit_key(outbound), rate) if rate > 0 else None


def _outbound(delivery: Delivery, contact: ContactPoint) -> Outbound:
    message = delivery.message
    body = message.body(delivery.language)
    return Outbound(
        delivery_id=delivery.pk, member_id=delivery.member_id, channel=delivery.channel,
        to=contact.value, to_masked=contact.masked, language=delivery.language,
        subject=body.get("subject", ""), text=body["text"], is_drill=message.is_drill,
        kind=message.kind,
    )


def send_one(delivery: Delivery, contacts: dict[tuple[int, str], ContactPoint], *,
             deadline: float | None = None) -> str:
    """Send one claimed delivery and record the outcome. Waits for a rate-limit token; when
    none comes before `deadline` (time.monotonic()), returns RELEASED without sending."""
    message = delivery.message
    member = delivery.member
    if member.status == Member.Status.OPTED_OUT and message.kind != Kind.CONFIRMATION:
        _finish(delivery, status=Status.SKIPPED, error="member opted out")
        return Status.SKIPPED
    contact = contacts.get((member.pk, delivery.channel))
    if contact is None or contact.disabled_at is not None or not contact.value_encrypted:
        if _finish(delivery, status=Status.FAILED, error="no usable contact point"):
            fall_back(delivery)
        return Status.FAILED
    try:
        outbound = _outbound(delivery, contact)
        backend = transport(delivery.channel, is_drill=message.is_drill)
    except Exception as exc:  # undecryptable contact, missing backend: nothing was sent
        log.exception("delivery %s cannot be prepared", delivery.pk)
        _finish(delivery, status=Status.FAILED, error=f"cannot prepare: {type(exc).__name__}")
        return Status.FAILED
    bucket = _bucket(backend, outbound)
    if bucket is not None and not bucket.take(deadline=deadline):
        return RELEASED
    if not _still_ours(delivery):
        if message.kind != Kind.CONFIRMATION and Member.objects.filter(
                pk=member.pk, status=Member.Status.OPTED_OUT).exists():
            # Opted out (an SMS STOP) after this batch was claimed: nothing more, ever.
            _finish(delivery, status=Status.SKIPPED, error="member opted out")
            return Status.SKIPPED
        return Status.SENDING  # another worker has it now
    attempts = delivery.attempts + 1
    try:
        provider_id = backend.send(outbound)
    except TransportError as exc:
        return _failed(delivery, contact, exc, attempts)
    except Exception:  # a bug in a backend must not wedge the queue: record and go on
        log.exception("delivery %s: the %s backend failed unexpectedly", delivery.pk,
                      delivery.channel)
        _finish(delivery, status=Status.FAILED, attempts=attempts, error="internal error")
        return Status.FAILED
    _finish(delivery, status=Status.SENT, attempts=attempts, provider_id=provider_id[:100],
            sent_at=timezone.now(), error="")
    return Status.SENT


def _failed(delivery: Delivery, contact: ContactPoint, exc: TransportError,
            attempts: int) -> str:
    now = timezone.now()
    error = str(exc)[:300]
    if exc.timed_out:
        # It may have arrived: ask the provider later (reconcile_unknown), never resend blind.
        _finish(delivery, status=Status.UNKNOWN, attempts=attempts, error=error,
                next_attempt_at=now + RECONCILE_DELAY)
        return Status.UNKNOWN
    if exc.permanent:
        ContactPoint.objects.filter(pk=contact.pk).update(
            disabled_at=now, disabled_reason=error[:200])
        if _finish(delivery, status=Status.FAILED, attempts=attempts, error=error):
            fall_back(delivery)
        return Status.FAILED
    if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        if _finish(delivery, status=Status.DEAD, attempts=attempts, error=error):
            fall_back(delivery)
        return Status.DEAD
    _finish(delivery, status=Status.QUEUED, attempts=attempts, error=error,
            next_attempt_at=now + _backoff(attempts, exc.retry_after))
    return Status.QUEUED


def fall_back(delivery: Delivery) -> Delivery | None:
    """The member's channel failed for good: queue the same message on their next channel
    (FALLBACK_ORDER) that is enabled, verified, working and not yet used for it."""
    message = delivery.message
    if message.kind == Kind.CONFIRMATION or delivery.channel not in FALLBACK_ORDER:
        return None  # a code confirms one contact point; partners have only their endpoint
    if not Member.objects.filter(pk=delivery.member_id, status=Member.Status.ACTIVE).exists():
        return None
    used = set(Delivery.objects.filter(message_id=delivery.message_id,
                                       member_id=delivery.member_id)
               .values_list("channel", flat=True))
    usable = set(ContactPoint.objects.filter(
        member_id=delivery.member_id, enabled=True, verified_at__isnull=False,
        disabled_at__isnull=True, kind__in=FALLBACK_ORDER,
    ).values_list("kind", flat=True))
    for kind in FALLBACK_ORDER:
        if kind in usable and kind not in used:
            now = timezone.now()
            Delivery.objects.bulk_create([Delivery(
                message_id=delivery.message_id, member_id=delivery.member_id, channel=kind,
                language=delivery.language, priority=delivery.priority, rank=delivery.rank,
                next_attempt_at=now, created_at=now, updated_at=now)], ignore_conflicts=True)
            schedule_drain()
            return Delivery.objects.filter(message_id=delivery.message_id,
                                           member_id=delivery.member_id, channel=kind).first()
    return None


def _send_safely(delivery: Delivery, contacts: dict[tuple[int, str], ContactPoint],
                 deadline: float) -> str:
    try:
        return send_one(delivery, contacts, deadline=deadline)
    except Exception:
        # Most likely the database refused a write around the send. The row stays claimed
        # and the stale-claim sweep reconciles it with the provider: nothing is resent blind.
        log.exception("delivery %s: could not record the outcome", delivery.pk)
        return Status.SENDING


def _run_batch(batch: list[Delivery], deadline: float, threads: int) -> int:
    """Send a claimed batch, most urgent first, on up to `threads` threads; give back
    whatever was not started by `deadline`."""
    member_ids = {d.member_id for d in batch}
    contacts = {(c.member_id, c.kind): c
                for c in ContactPoint.objects.filter(member_id__in=member_ids)}
    pending = deque(batch)
    lock = threading.Lock()
    released: list[int] = []
    done = 0

    def next_delivery() -> Delivery | None:
        with lock:
            if not pending or time.monotonic() >= deadline:
                return None
            return pending.popleft()

    def work() -> None:
        nonlocal done
        while (delivery := next_delivery()) is not None:
            outcome = _send_safely(delivery, contacts, deadline)
            with lock:
                if outcome == RELEASED:
                    released.append(delivery.pk)
                else:
                    done += 1

    def work_in_thread() -> None:
        try:
            work()
        finally:
            connection.close()

    threads = min(threads, len(batch))
    if threads <= 1:
        work()
    else:
        pool = [threading.Thread(target=work_in_thread, name=f"send-{i}", daemon=True)
                for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    release(batch[0].claim, released + [d.pk for d in pending])
    return done


def shares_rows_across_threads() -> bool:
    """Other connections see what this one wrote: not inside a transaction, and not on an
    in-memory SQLite database (tests), whose shared cache locks whole tables."""
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite"
                and connection.is_in_memory_db())  # type: ignore[attr-defined]


def drain(max_batches: int | None = None, *, max_seconds: float | None = None,
          concurrency: int | None = None) -> int:
    """Deliver everything that is due (or for at most `max_seconds`). Returns how many
    deliveries were attempted. Sends run on DELIVERY_CONCURRENCY threads where other
    connections can see this one's rows (shares_rows_across_threads)."""
    threads = concurrency or settings.DELIVERY_CONCURRENCY
    if not shares_rows_across_threads():
        threads = 1
    started = time.monotonic()
    stop_at = started + max_seconds if max_seconds is not None else None
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        if stop_at is not None and time.monotonic() >= stop_at:
            break
        batch = claim_batch()
        if not batch:
            break
        batches += 1
        deadline = time.monotonic() + batch_seconds()
        if stop_at is not None:
            deadline = min(deadline, max(stop_at, time.monotonic() + 1.0))
        done += _run_batch(batch, deadline, threads)
    return done


def has_due() -> bool:
    return Delivery.objects.filter(status=Status.QUEUED,
                                   next_attempt_at__lte=timezone.now()).exists()


def due_count(limit: int) -> int:
    """How many deliveries are due now, counting no further than `limit`."""
    return len(Delivery.objects.filter(status=Status.QUEUED, next_attempt_at__lte=timezone.now())
               .values_list("id", flat=True)[:limit])


# --- lost outcomes: reconcile before anything is resent ----------------------------------


def attempt_of(delivery: Delivery) -> Attempt:
    contact = ContactPoint.objects.filter(member_id=delivery.member_id,
                                          kind=delivery.channel).first()
    try:
        to = contact.value if contact is not None and contact.value_encrypted else ""
    except ValueError:
        to = ""
    return Attempt(delivery_id=delivery.pk, provider_id=delivery.provider_id, to=to,
                   started_at=delivery.claimed_at)


def _ask_provider(delivery: Delivery) -> str | None:
    backend = transport(delivery.channel, is_drill=delivery.message.is_drill)
    try:
        return backend.reconcile(attempt_of(delivery))
    except Exception:  # the provider cannot be asked now: it stays as it is, asked again later
        log.exception("delivery %s: reconcile failed", delivery.pk)
        return None


def sweep_stale_claims() -> int:
    """Deliveries claimed by a worker that died: reconcile with the provider, never resend
    blindly. Backends that cannot tell leave the delivery as 'unknown' (asked again later,
    then dead-lettered for staff)."""
    cutoff = timezone.now() - lease()
    fixed = 0
    stale = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).select_related(
        "message").order_by("priority", "rank", "id")[:SWEEP_LIMIT]
    for delivery in stale:
        verdict = _ask_provider(delivery)
        now = timezone.now()
        if verdict == "sent":
            fields: dict[str, Any] = {"status": Status.SENT, "sent_at": now, "error": ""}
        elif verdict == "failed":
            fields = {"status": Status.QUEUED, "next_attempt_at": now}
        else:
            fields = {"status": Status.UNKNOWN, "error": "worker stopped during send",
                      "next_attempt_at": now + RECONCILE_DELAY}
        # Only if nobody touched it meanwhile (a slow worker renewing its claim, another sweep).
        fixed += _write(partial(Delivery.objects.filter(
            pk=delivery.pk, status=Status.SENDING, claim=delivery.claim,
            claimed_at=delivery.claimed_at).update, updated_at=now, **fields))
    if fixed:
        schedule_drain()
    return fixed


def reconcile_unknown() -> int:
    """Deliveries whose send timed out (or whose worker died): ask the provider, then mark
    them sent, queue them again, or, when it never can tell, dead-letter them."""
    now = timezone.now()
    due = Delivery.objects.filter(status=Status.UNKNOWN, next_attempt_at__lte=now).select_related(
        "message").order_by("priority", "rank", "id")[:SWEEP_LIMIT]
    changed = 0
    requeued = 0
    for delivery in due:
        verdict = _ask_provider(delivery)
        now = timezone.now()
        dead = False
        if verdict == "sent":
            fields: dict[str, Any] = {"status": Status.SENT, "sent_at": now, "error": ""}
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
        n = _write(partial(Delivery.objects.filter(
            pk=delivery.pk, status=Status.UNKNOWN, claim=delivery.claim,
            next_attempt_at=delivery.next_attempt_at).update, updated_at=now, **fields))
        if n and fields.get("status") is not None:
            changed += 1
            requeued += fields["status"] == Status.QUEUED
            if dead:
                fall_back(delivery)
    if requeued:
        schedule_drain()
    return changed


# --- the dead letters --------------------------------------------------------------------


def dead_letters() -> Any:
    """What staff must look at: given up after the last attempt, or fate unknown."""
    return (Delivery.objects.filter(Q(status=Status.DEAD) | Q(status=Status.UNKNOWN))
            .select_related("message", "member").order_by("-updated_at", "-id"))


def retry(delivery_id: int) -> bool:
    """Staff asked to try a dead-lettered delivery again: queued now, with fresh attempts."""
    now = timezone.now()
    n = Delivery.objects.filter(pk=delivery_id, status__in=(Status.DEAD, Status.UNKNOWN)).update(
        status=Status.QUEUED, attempts=0, next_attempt_at=now, claim="", claimed_at=None,
        updated_at=now)
    if n:
        schedule_drain()
    return bool(n)
