"""The engine: jobs, the process's sender threads, and what a send's answer becomes.

Who writes to the database, and when (a drain is draining.Drain):
- the drain's database thread writes its claims and its groups of outcomes, so that
  neither holds up the jobs handed to the senders;
- the draining thread writes renewals of claims getting old as it hands their jobs on (in
  groups, see draining.Drain._fresh; claims are sized so that few need it), the outcome of
  deliveries with nothing to send (opted out, no usable contact point), and gives back
  what it could not start in time;
- a sender thread writes only (1) to renew the claim of a job that waited longer than
  claims.fresh_for() for a rate-limit token or in line, because only that thread knows
  when the job finally leaves (and an opt-out meanwhile must still stop it); (2) when the
  transport itself records (the console backends keep what they "sent"); (3) to take
  rate-limit tokens from a bucket in the database (no Redis, see buckets). It never writes
  an outcome: those go back to the drain.

A worker killed between a send and its group's write leaves those rows claimed: the
stale-claim sweep asks the provider about them before anything is resent."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from rapidresponse.delivery import sealing
from rapidresponse.delivery.models import Kind, Status
from rapidresponse.delivery.outbox import claims
from rapidresponse.delivery.outbox.buckets import database_buckets
from rapidresponse.delivery.outbox.fallback import fail
from rapidresponse.delivery.outbox.outcomes import finish_sent, outcome_of_error
from rapidresponse.delivery.outbox.writes import Claimed, finish
from rapidresponse.delivery.transport import Outbound, Transport, transport
from rapidresponse.lib import http
from rapidresponse.lib.ratelimit import TokenBucket
from rapidresponse.members.models import Member, mask

log = logging.getLogger(__name__)

# What a send returns when the worker gave the delivery back unsent (no token in time).
RELEASED = "released"
# Outcomes of sends are written in groups: this many, or after this long, whichever first.
FLUSH_EVERY = 100
FLUSH_SECONDS = 0.1


def _bucket(backend: Transport, outbound: Outbound) -> TokenBucket | None:
    """Live providers are sent to no faster than CHANNEL_RATE_LIMITS allows, counted in
    Redis when there is one, else in the database: shared by every worker either way. The
    console backends only record, so they are not limited."""
    if not backend.is_live:
        return None
    rate = float(settings.CHANNEL_RATE_LIMITS.get(outbound.channel, 0) or 0)
    if rate <= 0:
        return None
    store = None if settings.REDIS_URL else database_buckets()
    return TokenBucket(backend.rate_limit_key(outbound), rate, store=store)


@dataclass
class Job:
    """A claimed delivery, ready to hand to its transport."""

    row: Claimed
    outbound: Outbound
    backend: Transport
    bucket: TokenBucket | None
    renewed_at: float = 0.0  # time.monotonic() of the claim or its last renewal
    deadline: float | None = None  # time.monotonic() after which it is given back unsent


@dataclass
class Result:
    job: Job
    provider_id: str = ""
    error: BaseException | None = None
    released: bool = False  # no rate-limit token in time: given back unsent
    lost: bool = False  # no longer ours (handed on, or the member opted out): not sent


def prepare(row: Claimed) -> Job | str:
    """The job for a claimed delivery, or the outcome already recorded when there is nothing
    to send (member opted out, no usable contact point, cannot be prepared)."""
    message = row.message
    if row.member_status == Member.Status.OPTED_OUT and message.kind != Kind.CONFIRMATION:
        finish(row, status=Status.SKIPPED, error="member opted out")
        return Status.SKIPPED
    contact = row.contact
    if contact is None:
        fail(row, status=Status.FAILED, error="no usable contact point")
        return Status.FAILED
    try:
        body = message.body(row.language)
        # A one-time code is stored as sealing.MARK: the transport gets the secret, records
        # get the stored text (SecretGone when the secret was erased: "cannot prepare").
        stored = body["text"]
        to = contact.value  # decrypted once: the masked form is made from it
        outbound = Outbound(
            delivery_id=row.pk, member_id=row.member_id, channel=row.channel, to=to,
            to_masked=mask(contact.kind, to), language=row.language,
            subject=body.get("subject", ""),
            text=sealing.unseal(message.pk, stored), is_drill=message.is_drill,
            kind=message.kind, redacted=stored if sealing.is_sealed(stored) else None)
        backend = transport(row.channel, is_drill=message.is_drill)
    except Exception as exc:  # undecryptable contact, missing backend: nothing was sent
        log.exception("delivery %s cannot be prepared", row.pk)
        finish(row, status=Status.FAILED, error=f"cannot prepare: {type(exc).__name__}")
        return Status.FAILED
    return Job(row, outbound, backend, _bucket(backend, outbound), renewed_at=row.claimed_at)


def renew(jobs: list[Job], *, always: bool = False) -> tuple[list[Job], int]:
    """Renew the claims of jobs that are no longer fresh (claims.fresh_for), or of all of
    them. Returns the jobs still ours and how many were settled (see claims.renew)."""
    now = time.monotonic()
    stale = {j.row.pk: j for j in jobs if always or now - j.renewed_at > claims.fresh_for()}
    if not stale:
        return jobs, 0
    ours, settled = claims.renew([j.row for j in stale.values()])
    for job in stale.values():
        job.renewed_at = now
    return [j for j in jobs if j.row.pk in ours or j.row.pk not in stale], settled


def transmit(job: Job) -> Result:
    """Hand one job to its transport (on a sender thread; see the module's docstring for
    what it may write)."""
    if job.deadline is not None and time.monotonic() >= job.deadline:
        return Result(job, released=True)  # waited in line past its batch's time
    if job.bucket is not None and not job.bucket.take(deadline=job.deadline):
        return Result(job, released=True)
    if time.monotonic() - job.renewed_at > claims.fresh_for():
        ours, _settled = renew([job], always=True)
        if not ours:
            return Result(job, lost=True)
    try:
        return Result(job, provider_id=job.backend.send(job.outbound))
    except Exception as exc:
        return Result(job, error=exc)


def record(results: list[Result]) -> tuple[int, list[Claimed]]:
    """Write down what the transports answered. Returns how many were attempted and the rows
    given back unsent. If the database refuses, the rows stay claimed: the stale-claim sweep
    reconciles them with the provider, so nothing is resent blind."""
    released = [r.job.row for r in results if r.released]
    attempted = [r for r in results if not r.released and not r.lost]
    try:
        finish_sent([(r.job.row, r.provider_id) for r in attempted if r.error is None],
                    sealed={r.job.row.message_id for r in attempted
                            if r.error is None and r.job.outbound.redacted is not None})
    except Exception:
        log.exception("could not record %d sends", len(attempted))
    for result in attempted:
        if result.error is not None:
            try:
                outcome_of_error(result.job.row, result.job.row.contact, result.error)
            except Exception:
                log.exception("delivery %s: could not record the outcome", result.job.row.pk)
    return len(attempted), released


class Results:
    """What the sender threads got back, for the drain that handed them the jobs. The drain
    waits for several at once (`take`), not woken for each: a wake-up per send costs the
    process about as much CPU as the rest of the drain's work for it."""

    def __init__(self) -> None:
        self._ready = threading.Condition(threading.Lock())
        self._items: list[Result] = []
        self._want = 1

    def put(self, result: Result) -> None:
        with self._ready:
            self._items.append(result)
            if len(self._items) >= self._want:
                self._ready.notify()

    def take(self, want: int, timeout: float) -> list[Result]:
        """What has come back once there are `want` (or `timeout` seconds have passed):
        possibly fewer, possibly none."""
        with self._ready:
            self._want = max(1, want)
            self._ready.wait_for(lambda: len(self._items) >= self._want, timeout)
            found, self._items = self._items, []
            return found


class Senders:
    """The process's sender threads: `size` of them, shared by every drain in the process
    (the worker's task and its timer may both drain), so that a process never has more than
    DELIVERY_CONCURRENCY sends in flight. Each thread makes its HTTP client when it starts
    (not on its first send) and keeps it; it closes its database connection (if it opened
    one: a rate-limit bucket, a renewal, a recording transport) once it has had no work for
    IDLE_CLOSE_S, not between two sends: opening one costs more than most sends."""

    IDLE_CLOSE_S = 1.0

    def __init__(self, size: int) -> None:
        self.size = size
        self._jobs: queue.SimpleQueue[tuple[Job, Results]] = queue.SimpleQueue()
        for i in range(size):
            threading.Thread(target=self._work, name=f"send-{i}", daemon=True).start()

    def submit(self, job: Job, results: Results) -> None:
        self._jobs.put((job, results))

    def _next(self) -> tuple[Job, Results]:
        if connection.connection is None:
            return self._jobs.get()
        try:
            return self._jobs.get(timeout=self.IDLE_CLOSE_S)
        except queue.Empty:
            connection.close()
            return self._jobs.get()

    def _work(self) -> None:
        http.client()
        while True:
            job, results = self._next()
            results.put(transmit(job))


_senders: dict[int, Senders] = {}
_senders_lock = threading.Lock()


def senders(size: int) -> Senders:
    with _senders_lock:
        if size not in _senders:
            _senders[size] = Senders(size)
        return _senders[size]


def shares_rows_across_threads() -> bool:
    """Other connections see what this one wrote: not inside a transaction, and not on an
    in-memory SQLite database (tests), whose shared cache locks whole tables."""
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite"
                and connection.is_in_memory_db())  # type: ignore[attr-defined]
