"""One drain of the outbox: claim due deliveries in batches, keep the process's sender
threads busy, write outcomes in groups, give back whatever is left when time is up."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.db import connection

from rapidresponse.delivery.models import Delivery, Message, Status
from rapidresponse.delivery.outbox import claims
from rapidresponse.delivery.outbox.engine import (
    FLUSH_EVERY,
    FLUSH_SECONDS,
    RELEASED,
    Job,
    Result,
    Results,
    prepare,
    record,
    renew,
    senders,
    shares_rows_across_threads,
    transmit,
)
from rapidresponse.delivery.outbox.outcomes import finish_sent, outcome_of_error
from rapidresponse.delivery.outbox.writes import Claimed
from rapidresponse.members.models import ContactPoint

T = TypeVar("T")

# A drain claims what it sends in about this long (see Drain._claim_size), when what it
# holds unsent would last CLAIM_LEAD_S more.
CLAIM_AHEAD_S = 0.15
CLAIM_LEAD_S = 0.1
# A claim this old (a share of claims.fresh_for()) is renewed as its job is handed on: the
# rest is time enough for the job's wait for a sender (at most one round of the senders).
RENEW_AT = 0.7


class Drain:
    """Claims batches, prepares a chunk at a time (renewing claims that are no longer
    fresh), keeps `threads` sends busy and as many again waiting, and writes outcomes in
    groups (every FLUSH_EVERY outcomes or FLUSH_SECONDS).

    With sender threads, the claims and the groups of outcomes are written by one more
    thread of this drain (`db`, its own database connection), so that neither a claim nor
    a write holds up the jobs this thread hands to the senders: the next batch is claimed
    while the last jobs of the one before are still waiting to be sent. Inline (one thread),
    this thread does it all."""

    def __init__(self, threads: int, max_batches: int | None, stop_at: float | None) -> None:
        self.threads = max(1, threads)
        self.max_batches = max_batches
        self.stop_at = stop_at
        self.batches = 0
        self.exhausted = False
        # Outcomes written since the queue was last found empty: a fall-back to another
        # channel may have queued more, so look once more before stopping.
        self.recorded_since_exhausted = False
        self.todo: deque[tuple[Claimed, float]] = deque()  # with the batch's deadline
        self.ready: deque[Job] = deque()
        self.messages: dict[int, Message] = {}
        self.results = Results()
        self.unrecorded: list[Result] = []
        self.released: list[Claimed] = []
        self.in_flight = 0
        self.done = 0
        self.chunk = max(2 * self.threads, 32)
        self.started_at = time.monotonic()
        self.submitted = 0
        self.db = ThreadPoolExecutor(1, "outbox-db") if self.threads > 1 else None
        self.claiming: Future[list[Claimed]] | None = None
        self.writing: list[Future[tuple[int, list[Claimed]]]] = []

    def _run_db(self, work: Callable[[], T]) -> Future[T]:
        if self.db is not None:
            return self.db.submit(work)
        done: Future[T] = Future()
        done.set_result(work())
        return done

    def _start_claim(self, ahead: bool) -> None:
        """Claim the next batch if allowed and not already under way: `ahead` of need on the
        db thread; else here and now (nothing is in flight for it to overlap with, and the
        first send of a drain then waits for no other thread's connection)."""
        if self.claiming is not None or self.exhausted:
            return
        if self.max_batches is not None and self.batches >= self.max_batches:
            return
        if self.stop_at is not None and time.monotonic() >= self.stop_at:
            return
        self.batches += 1
        size = self._claim_size()
        if ahead:
            self.claiming = self._run_db(lambda: claims.claim(size, self.messages))
        else:  # claimed before it is kept: a claim that fails leaves nothing to wait for
            batch = claims.claim(size, self.messages)
            self.claiming = Future()
            self.claiming.set_result(batch)

    def _claim_size(self) -> int:
        """What this drain sends in about CLAIM_AHEAD_S (at least two rounds of its threads,
        at most claims.BATCH): a batch claimed just in time needs no renewing before its
        sends, and several processes share a fan-out evenly. A drain told how many batches
        to claim (max_batches) claims whole ones."""
        if self.max_batches is not None:
            return claims.BATCH
        rate = self._rate()
        if not rate:
            return min(claims.BATCH, 4 * self.threads)
        return max(2 * self.threads, min(claims.BATCH, int(rate * CLAIM_AHEAD_S)))

    def _rate(self) -> float:
        """Jobs handed to the senders a second so far (0.0 before a first chunk)."""
        elapsed = time.monotonic() - self.started_at
        return self.submitted / elapsed if self.submitted >= self.chunk and elapsed > 0 else 0.0

    def _take_claim(self, wait: bool) -> None:
        if self.claiming is None or not (wait or self.claiming.done()):
            return
        claiming, self.claiming = self.claiming, None
        batch = claiming.result()
        if not batch:
            self.exhausted = True
            self.recorded_since_exhausted = False
            return
        deadline = batch[0].claimed_at + claims.batch_seconds()
        if self.stop_at is not None:
            deadline = min(deadline, max(self.stop_at, batch[0].claimed_at + 1.0))
        self.todo.extend((row, deadline) for row in batch)

    def _next_chunk(self) -> bool:
        """Prepare (and renew where needed) the next chunk. False when none is left."""
        self._take_claim(wait=False)
        if not self.todo:
            self._start_claim(ahead=self.in_flight > 0)
            self._take_claim(wait=True)
            if not self.todo:
                return False
        jobs: list[Job] = []
        now = time.monotonic()
        while self.todo and len(jobs) < self.chunk:
            row, deadline = self.todo.popleft()
            if now >= deadline:
                self.released.append(row)
                continue
            job = prepare(row)
            if isinstance(job, str):
                self.done += 1
            else:
                job.deadline = deadline
                jobs.append(job)
        self.ready.extend(jobs)  # renewed, where needed, as they are handed on (_fresh)
        if self.db is not None and len(self.todo) < max(self.threads,
                                                        self._rate() * CLAIM_LEAD_S):
            self._start_claim(ahead=True)  # claimed while the rest of this batch goes out
        return True

    def _fill(self) -> None:
        while self.in_flight < 2 * self.threads:
            if not self.ready:
                if not self._next_chunk():
                    return
                continue
            job = self.ready.popleft()
            if job.deadline is not None and time.monotonic() >= job.deadline:
                self.released.append(job.row)
                continue
            if not self._fresh(job):
                continue
            self.submitted += 1
            if self.threads > 1:
                senders(self.threads).submit(job, self.results)
            else:
                self.results.put(transmit(job))
            self.in_flight += 1

    def _fresh(self, job: Job) -> bool:
        """Renew the claim of a job about to be handed on once it is RENEW_AT of
        claims.fresh_for() old, so that the sender finds it fresh and sends at once; the jobs
        waiting behind it that are getting old are renewed in the same statement (one
        statement for many, on this thread, instead of one per send on the senders).
        False when it is no longer ours to send (see engine.renew)."""
        now = time.monotonic()
        fresh = claims.fresh_for()
        if now - job.renewed_at <= fresh * RENEW_AT:
            return True
        group = [job] + [j for j in self.ready if now - j.renewed_at > fresh * RENEW_AT / 2]
        ours, settled = renew(group, always=True)
        self.done += settled
        kept = {id(j) for j in ours}
        dropped = {id(j) for j in group} - kept
        if dropped:
            self.ready = deque(j for j in self.ready if id(j) not in dropped)
        return id(job) in kept

    def _flush(self) -> None:
        if self.unrecorded:
            group, self.unrecorded = self.unrecorded, []
            self.writing.append(self._run_db(lambda: record(group)))
            self.recorded_since_exhausted = True
        self._written(wait=False)

    def _written(self, wait: bool) -> None:
        for future in [f for f in self.writing if wait or f.done()]:
            self.writing.remove(future)
            attempted, given_back = future.result()
            self.done += attempted
            self.released += given_back

    def _collect(self, flush_at: float) -> None:
        """Take what the senders got back: once the jobs still waiting for a sender are down
        to half a round (time to hand on more), or by `flush_at`."""
        want = max(1, self.in_flight - (3 * self.threads) // 2) if self.threads > 1 else 1
        found = self.results.take(want, max(0.001, flush_at - time.monotonic()))
        self.unrecorded += found
        self.in_flight -= len(found)

    def run(self) -> int:
        flush_at = time.monotonic() + FLUSH_SECONDS
        try:
            while True:
                self._fill()
                if self.in_flight == 0:
                    self._flush()
                    self._written(wait=True)
                    if self.exhausted and self.recorded_since_exhausted:
                        self.exhausted = False
                        continue
                    break
                self._collect(flush_at)
                if self.unrecorded and (self.in_flight == 0 or time.monotonic() >= flush_at
                                        or len(self.unrecorded) >= FLUSH_EVERY):
                    self._flush()
                    flush_at = time.monotonic() + FLUSH_SECONDS
        finally:
            # Something above raised: still record what comes back, then give back the rest.
            end = time.monotonic() + 30
            while self.in_flight and time.monotonic() < end:
                self._collect(end)
            self._flush()
            self._written(wait=True)
            if self.claiming is not None:  # claimed ahead: given back below
                with contextlib.suppress(Exception):
                    self._take_claim(wait=True)
            self.released += [row for row, _deadline in self.todo]
            self.released += [job.row for job in self.ready]
            by_claim: dict[str, list[int]] = {}
            for row in self.released:
                by_claim.setdefault(row.claim, []).append(row.pk)
            for token, ids in by_claim.items():
                claims.release(token, ids)
            if self.db is not None:
                self.db.submit(lambda: connection.close()).result()  # the db thread's own
                self.db.shutdown()
        return self.done


def drain(max_batches: int | None = None, *, max_seconds: float | None = None,
          concurrency: int | None = None) -> int:
    """Deliver everything that is due (or for at most `max_seconds`). Returns how many
    deliveries were attempted. Sends run on the process's DELIVERY_CONCURRENCY sender
    threads where other connections can see this one's rows (shares_rows_across_threads),
    inline otherwise."""
    threads = concurrency or settings.DELIVERY_CONCURRENCY
    if not shares_rows_across_threads():
        threads = 1
    stop_at = time.monotonic() + max_seconds if max_seconds is not None else None
    return Drain(threads, max_batches, stop_at).run()


def send_one(delivery: Delivery, contacts: dict[tuple[int, str], ContactPoint], *,
             deadline: float | None = None) -> str:
    """Send one claimed delivery (a model instance, e.g. from claims.claim_batch) and record
    the outcome. Waits for a rate-limit token; when none comes before `deadline`
    (time.monotonic()), returns RELEASED without sending."""
    contact = contacts.get((delivery.member_id, delivery.channel))
    usable = contact is not None and contact.disabled_at is None and contact.value_encrypted
    row = Claimed(pk=delivery.pk, message=delivery.message, member_id=delivery.member_id,
                  channel=delivery.channel, language=delivery.language,
                  priority=delivery.priority, rank=delivery.rank, attempts=delivery.attempts,
                  claim=delivery.claim, member_status=delivery.member.status,
                  contact=contact if usable else None)
    job = prepare(row)
    if isinstance(job, str):
        return job
    job.deadline = deadline
    ours, settled = renew([job], always=True)
    if not ours:
        return Status.SKIPPED if settled else Status.SENDING  # SENDING: another worker has it
    result = transmit(job)
    if result.released:
        return RELEASED
    if result.lost:
        return Status.SENDING
    if result.error is not None:
        return outcome_of_error(row, row.contact, result.error)
    finish_sent([(row, result.provider_id)],
                sealed={row.message_id} if job.outbound.redacted is not None else set())
    return Status.SENT
