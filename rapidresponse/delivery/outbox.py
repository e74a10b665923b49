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
import queue
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Field, Q
from django.utils import timezone

from rapidresponse.delivery import sealing
from rapidresponse.delivery.models import PRIORITY, Delivery, Kind, Message, Status
from rapidresponse.delivery.transport import (
    Attempt,
    Outbound,
    Reconciled,
    Transport,
    TransportError,
    transport,
)
from rapidresponse.lib import http
from rapidresponse.lib.ratelimit import TokenBucket
from rapidresponse.members.models import ContactPoint, Member

log = logging.getLogger(__name__)
T = TypeVar("T")

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
# Outcomes of sends are written in groups: this many, or after this long, whichever first.
FLUSH_EVERY = 100
FLUSH_SECONDS = 0.05
# A job whose claim was renewed longer ago than this (it waited for a rate-limit token, or
# in line behind others) renews it again just before it is sent.
RENEW_AFTER_S = 0.5


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


def _claim(token: str, limit: int) -> tuple[int, int]:
    """One try at a claim: (deliveries found due, deliveries claimed)."""
    now = timezone.now()
    with transaction.atomic():
        due = (Delivery.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
               .order_by("priority", "rank", "id"))
        if connection.vendor == "postgresql":
            ids = list(due.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
        else:
            ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return 0, 0
        return len(ids), Delivery.objects.filter(id__in=ids, status=Status.QUEUED).update(
            status=Status.SENDING, claim=token, claimed_at=now, updated_at=now)


def claim_batch(limit: int = BATCH) -> list[Delivery]:
    """Atomically mark up to `limit` due deliveries as ours, most urgent and nearest first.

    On SQLite two workers can read the same due rows: the one that writes second claims
    none of them, or is refused the write (its read is out of date). It tries again, so
    that a worker never takes a busy queue for an empty one."""
    token = secrets.token_hex(8)
    for attempt in range(10):
        try:
            found, claimed = _claim(token, limit)
        except OperationalError:
            if attempt == 9 or connection.in_atomic_block:
                raise
            found, claimed = 1, 0
        if claimed or not found:
            break
        time.sleep(random.uniform(0.001, 0.01) * (attempt + 1))
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


def _write(update: Callable[[], T]) -> T:
    """A write that survives a briefly locked database (SQLite under several writers)."""
    for attempt in range(4):
        try:
            return update()
        except OperationalError:
            if connection.in_atomic_block:
                raise
            time.sleep(0.05 * (attempt + 1))
    return update()  # the last try: its error is the caller's


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
    """Record an outcome, if the delivery is still ours: our claim, and still `sending` (a
    status callback that already reported a failure keeps its word)."""
    fields["updated_at"] = timezone.now()
    names = sorted(fields)
    # Column names come from the model's own fields (get_field raises for anything else).
    columns = ", ".join(f"{connection.ops.quote_name(_field(n).column)} = %s" for n in names)
    sql = (f"UPDATE delivery_delivery SET {columns} "  # noqa: S608
           "WHERE id = %s AND claim = %s AND status = %s")
    return _update(sql, [_db(n, fields[n]) for n in names]
                   + [delivery.pk, delivery.claim, Status.SENDING])


_SENT_SQL = (
    "UPDATE delivery_delivery SET status = %s, attempts = %s, provider_id = %s, sent_at = %s, "
    "error = '', updated_at = %s WHERE id = %s AND claim = %s AND status = %s")


def _finish_sent(results: list[_Result]) -> int:
    """Record many sends the provider took in one transaction: one statement per batch of
    outcomes instead of one transaction per send (a write transaction is what SQLite, and a
    busy PostgreSQL, serialise)."""
    if not results:
        return 0
    now = timezone.now()
    stamp = _db("sent_at", now)
    rows = [[Status.SENT, r.job.delivery.attempts + 1, r.provider_id[:100], stamp, stamp,
             r.job.delivery.pk, r.job.delivery.claim, Status.SENDING] for r in results]
    sealed = {r.job.delivery.message_id for r in results if r.job.outbound.redacted is not None}

    def run() -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(_SENT_SQL, rows)
            # The provider has the secret of a sealed message: it is erased in the
            # transaction that records the send (sealing.py).
            sealing.sent(sealed)
            return len(rows)
    return _write(run)


# Renew our claim on deliveries just before they are sent, unless the member opted out (an
# SMS STOP after the batch was claimed; confirmation codes are sent all the same).
_RENEW_SQL = (
    "UPDATE delivery_delivery SET status = %s, claimed_at = %s "
    "WHERE claim = %s AND status IN (%s, %s) AND id IN ({ids}) "
    "AND (EXISTS (SELECT 1 FROM delivery_message msg WHERE msg.id = delivery_delivery.message_id"
    " AND msg.kind = %s) OR NOT EXISTS (SELECT 1 FROM members_member m"
    " WHERE m.id = delivery_delivery.member_id AND m.status = %s))")
_RENEWED_SQL = ("SELECT id FROM delivery_delivery "
                "WHERE claim = %s AND status = %s AND claimed_at = %s AND id IN ({ids})")


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
    # A one-time code is stored as sealing.MARK: the transport gets the secret, records get
    # the stored text (raises SecretGone when the secret was erased: "cannot prepare").
    stored = body["text"]
    return Outbound(
        delivery_id=delivery.pk, member_id=delivery.member_id, channel=delivery.channel,
        to=contact.value, to_masked=contact.masked, language=delivery.language,
        subject=body.get("subject", ""), text=sealing.unseal(message.pk, stored),
        is_drill=message.is_drill, kind=message.kind,
        redacted=stored if sealing.is_sealed(stored) else None,
    )


@dataclass
class _Job:
    """A claimed delivery, ready to hand to its transport."""

    delivery: Delivery
    contact: ContactPoint
    outbound: Outbound
    backend: Transport
    bucket: TokenBucket | None
    renewed_at: float = 0.0  # time.monotonic() of the last renewal of our claim
    deadline: float | None = None  # time.monotonic() after which it is given back unsent


@dataclass
class _Result:
    job: _Job
    provider_id: str = ""
    error: BaseException | None = None
    released: bool = False  # no rate-limit token in time: given back unsent
    lost: bool = False  # no longer ours (handed on, or the member opted out): not sent


def _prepare(delivery: Delivery, contacts: dict[tuple[int, str], ContactPoint]) -> _Job | str:
    """The job for a claimed delivery, or the outcome already recorded when there is nothing
    to send (member opted out, no usable contact point, cannot be prepared)."""
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
    return _Job(delivery, contact, outbound, backend, _bucket(backend, outbound))


def _renew(jobs: list[_Job]) -> tuple[list[_Job], int]:
    """Renew our claim on these jobs just before sending them (one statement for all).
    Returns the jobs that are still ours, and how many were settled here: a job the
    stale-claim sweep handed on (queued again, or found already sent) is not ours to send,
    and one whose member opted out after the claim is skipped."""
    if not jobs:
        return [], 0
    claim = jobs[0].delivery.claim
    ids = [j.delivery.pk for j in jobs]
    marks = ", ".join(["%s"] * len(ids))
    stamp = _db("claimed_at", timezone.now())

    def run() -> set[int]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_RENEW_SQL.format(ids=marks), [
                Status.SENDING, stamp, claim, Status.SENDING, Status.UNKNOWN, *ids,
                Kind.CONFIRMATION, Member.Status.OPTED_OUT])
            cursor.execute(_RENEWED_SQL.format(ids=marks),
                           [claim, Status.SENDING, stamp, *ids])
            return {int(row[0]) for row in cursor.fetchall()}

    renewed = _write(run)
    now = time.monotonic()
    ours = [j for j in jobs if j.delivery.pk in renewed]
    for job in ours:
        job.renewed_at = now
    lost = [j for j in jobs if j.delivery.pk not in renewed]
    settled = 0
    if lost:
        opted_out = set(Member.objects.filter(
            pk__in={j.delivery.member_id for j in lost}, status=Member.Status.OPTED_OUT,
        ).values_list("pk", flat=True))
        for job in lost:
            if job.delivery.member_id in opted_out and job.delivery.message.kind != \
                    Kind.CONFIRMATION:
                # Opted out (an SMS STOP) after this batch was claimed: nothing more, ever.
                _finish(job.delivery, status=Status.SKIPPED, error="member opted out")
                settled += 1
    return ours, settled


def _transmit(job: _Job) -> _Result:
    """Hand one job to its transport (on any thread). The database is not touched here in
    the usual case (only by backends that record, like the console ones): a job that had to
    wait longer than RENEW_AFTER_S since its claim was renewed (for a rate-limit token, or
    in line) renews it once more first, so that an opt-out or a hand-over meanwhile counts."""
    if job.deadline is not None and time.monotonic() >= job.deadline:
        return _Result(job, released=True)  # waited in line past its batch's time
    if job.bucket is not None and not job.bucket.take(deadline=job.deadline):
        return _Result(job, released=True)
    if time.monotonic() - job.renewed_at > RENEW_AFTER_S:
        ours, _settled = _renew([job])
        if not ours:
            return _Result(job, lost=True)
    try:
        return _Result(job, provider_id=job.backend.send(job.outbound))
    except Exception as exc:
        return _Result(job, error=exc)


def _record(results: list[_Result]) -> tuple[int, list[Delivery]]:
    """Write down what the transports answered. Returns how many were attempted and the
    deliveries given back unsent. If the database refuses, the rows stay claimed: the stale-claim
    sweep reconciles them with the provider, so nothing is resent blind."""
    released = [r.job.delivery for r in results if r.released]
    attempted = [r for r in results if not r.released and not r.lost]
    try:
        _finish_sent([r for r in attempted if r.error is None])
    except Exception:
        log.exception("could not record %d sends", len(attempted))
    for result in attempted:
        if result.error is not None:
            try:
                _outcome_of_error(result.job, result.error)
            except Exception:
                log.exception("delivery %s: could not record the outcome",
                              result.job.delivery.pk)
    return len(attempted), released


def _outcome_of_error(job: _Job, error: BaseException) -> str:
    delivery = job.delivery
    attempts = delivery.attempts + 1
    if isinstance(error, TransportError):
        return _failed(delivery, job.contact, error, attempts)
    # A bug in a backend must not wedge the queue: record and go on.
    log.error("delivery %s: the %s backend failed unexpectedly", delivery.pk, delivery.channel,
              exc_info=error)
    _finish(delivery, status=Status.FAILED, attempts=attempts, error="internal error")
    return Status.FAILED


def send_one(delivery: Delivery, contacts: dict[tuple[int, str], ContactPoint], *,
             deadline: float | None = None) -> str:
    """Send one claimed delivery and record the outcome. Waits for a rate-limit token; when
    none comes before `deadline` (time.monotonic()), returns RELEASED without sending."""
    job = _prepare(delivery, contacts)
    if isinstance(job, str):
        return job
    job.deadline = deadline
    ours, settled = _renew([job])
    if not ours:
        return Status.SKIPPED if settled else Status.SENDING  # SENDING: another worker has it
    result = _transmit(job)
    if result.released:
        return RELEASED
    if result.lost:
        return Status.SENDING
    if result.error is not None:
        return _outcome_of_error(job, result.error)
    _finish_sent([result])
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
    usable = set(ContactPoint.objects.usable().filter(
        member_id=delivery.member_id, kind__in=FALLBACK_ORDER,
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


class _Senders:
    """`threads` threads that hand jobs to their transports and nothing else; the draining
    thread does every database write. With one thread, jobs run inline."""

    def __init__(self, threads: int) -> None:
        self.results: queue.SimpleQueue[_Result] = queue.SimpleQueue()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"send-{i}", daemon=True)
                         for i in range(threads if threads > 1 else 0)]
        for t in self._threads:
            t.start()

    def submit(self, job: _Job) -> None:
        if self._threads:
            self._jobs.put(job)
        else:
            self.results.put(_transmit(job))

    def _work(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                self.results.put(_transmit(job))
        finally:
            connection.close()  # backends that record (console) opened one in this thread
            http.release()

    def stop(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for t in self._threads:
            t.join()


class _Drain:
    """One drain: claims batches, renews claims a chunk at a time just before sending,
    keeps `threads` sends busy (and as many again waiting, so that the senders do not stop
    while this thread claims or writes), and writes outcomes in groups (every FLUSH_EVERY
    outcomes or FLUSH_SECONDS). The next batch is claimed while the last sends of the
    previous one are in flight.

    A worker killed between a send and its group's write leaves those rows claimed: the
    stale-claim sweep asks the provider about them before anything is resent."""

    def __init__(self, threads: int, max_batches: int | None, stop_at: float | None) -> None:
        self.threads = max(1, threads)
        self.max_batches = max_batches
        self.stop_at = stop_at
        self.batches = 0
        self.exhausted = False
        # Outcomes written since the queue was last found empty: a fall-back to another
        # channel may have queued more, so look once more before stopping.
        self.recorded_since_exhausted = False
        self.todo: deque[tuple[Delivery, float]] = deque()  # with the batch's deadline
        self.ready: deque[_Job] = deque()
        self.contacts: dict[tuple[int, str], ContactPoint] = {}
        self.unrecorded: list[_Result] = []
        self.released: list[Delivery] = []
        self.in_flight = 0
        self.done = 0
        self.chunk = max(2 * self.threads, 32)

    def _claim(self) -> bool:
        if self.exhausted or (self.max_batches is not None and self.batches >= self.max_batches):
            return False
        now = time.monotonic()
        if self.stop_at is not None and now >= self.stop_at:
            return False
        batch = claim_batch()
        if not batch:
            self.exhausted = True
            self.recorded_since_exhausted = False
            return False
        self.batches += 1
        deadline = now + batch_seconds()
        if self.stop_at is not None:
            deadline = min(deadline, max(self.stop_at, now + 1.0))
        self.contacts.update(
            ((c.member_id, c.kind), c)
            for c in ContactPoint.objects.filter(member_id__in={d.member_id for d in batch}))
        self.todo.extend((d, deadline) for d in batch)
        return True

    def _next_chunk(self) -> bool:
        """Prepare and renew the next chunk of claimed deliveries. False when none is left."""
        if not self.todo and not self._claim():
            return False
        jobs: list[_Job] = []
        now = time.monotonic()
        while self.todo and len(jobs) < self.chunk:
            delivery, deadline = self.todo.popleft()
            if now >= deadline:
                self.released.append(delivery)
                continue
            job = _prepare(delivery, self.contacts)
            if isinstance(job, str):
                self.done += 1
            else:
                job.deadline = deadline
                jobs.append(job)
        ours, settled = _renew(jobs)
        self.done += settled
        self.ready.extend(ours)
        return True

    def _fill(self, senders: _Senders) -> None:
        while self.in_flight < 2 * self.threads:
            if not self.ready:
                if not self._next_chunk():
                    return
                continue
            job = self.ready.popleft()
            if job.deadline is not None and time.monotonic() >= job.deadline:
                self.released.append(job.delivery)
                continue
            senders.submit(job)
            self.in_flight += 1

    def _flush(self) -> None:
        if self.unrecorded:
            attempted, given_back = _record(self.unrecorded)
            self.done += attempted
            self.released += given_back
            self.unrecorded = []
            self.recorded_since_exhausted = True

    def run(self) -> int:
        senders = _Senders(self.threads)
        flush_at = time.monotonic() + FLUSH_SECONDS
        try:
            while True:
                self._fill(senders)
                if self.in_flight == 0:
                    if self.exhausted and self.recorded_since_exhausted:
                        self.exhausted = False
                        continue
                    break
                try:
                    self.unrecorded.append(senders.results.get(
                        timeout=max(0.001, flush_at - time.monotonic())))
                    self.in_flight -= 1
                except queue.Empty:
                    pass
                while self.in_flight:
                    try:
                        self.unrecorded.append(senders.results.get_nowait())
                        self.in_flight -= 1
                    except queue.Empty:
                        break
                if self.unrecorded and (self.in_flight == 0 or time.monotonic() >= flush_at
                                        or len(self.unrecorded) >= FLUSH_EVERY):
                    self._flush()
                    flush_at = time.monotonic() + FLUSH_SECONDS
        finally:
            senders.stop()
            while True:  # something above raised: still record what came back
                try:
                    self.unrecorded.append(senders.results.get_nowait())
                except queue.Empty:
                    break
            self._flush()
            self.released += [d for d, _deadline in self.todo]
            self.released += [job.delivery for job in self.ready]
            by_claim: dict[str, list[int]] = {}
            for delivery in self.released:
                by_claim.setdefault(delivery.claim, []).append(delivery.pk)
            for claim, ids in by_claim.items():
                release(claim, ids)
        return self.done


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
    stop_at = time.monotonic() + max_seconds if max_seconds is not None else None
    return _Drain(threads, max_batches, stop_at).run()


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
    text = delivery.message.body(delivery.language).get("text", "")
    return Attempt(delivery_id=delivery.pk, provider_id=delivery.provider_id, to=to,
                   started_at=delivery.claimed_at, text=text)


def _ask_provider(delivery: Delivery) -> str | None:
    backend = transport(delivery.channel, is_drill=delivery.message.is_drill)
    try:
        return backend.reconcile(attempt_of(delivery))
    except Exception:  # the provider cannot be asked now: it stays as it is, asked again later
        log.exception("delivery %s: reconcile failed", delivery.pk)
        return None


def _found(verdict: str) -> dict[str, str]:
    """The provider's id for the message a reconcile found, to be recorded with it."""
    if isinstance(verdict, Reconciled) and verdict.provider_id:
        return {"provider_id": verdict.provider_id[:100]}
    return {}


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
            fields: dict[str, Any] = {"status": Status.SENT, "sent_at": now, "error": "",
                                      **_found(verdict)}
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
