"""What the transports answered, written down: sends the provider took, in groups (one
statement for a group); errors one by one: retried later with backoff, given up after the
last attempt, or failed for good (both with the member's next channel, see fallback.fail);
a send that timed out becomes `unknown`, to be reconciled, never resent blind."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapidresponse.delivery import sealing
from rapidresponse.delivery.models import Status
from rapidresponse.delivery.outbox.fallback import fail
from rapidresponse.delivery.outbox.writes import Row, db, finish, take_provider_id, write
from rapidresponse.delivery.transport import TransportError
from rapidresponse.members.models import ContactPoint

log = logging.getLogger(__name__)

# How long after a time-out the provider is asked what became of the message.
RECONCILE_DELAY = timedelta(seconds=15)

_SENT_SQL = (
    "UPDATE delivery_delivery SET status = %s, attempts = %s, provider_id = %s, sent_at = %s, "
    "error = '', updated_at = %s WHERE id = %s AND claim = %s AND status = %s")
# PostgreSQL: a whole group in one statement (executemany would run one per row).
_SENT_PG_SQL = (
    "UPDATE delivery_delivery AS d SET status = %s, attempts = v.attempts, "
    "provider_id = v.provider_id, sent_at = %s, error = '', updated_at = %s "
    "FROM unnest(%s::bigint[], %s::integer[], %s::text[], %s::text[]) "
    "AS v(id, attempts, provider_id, claim) "
    "WHERE d.id = v.id AND d.claim = v.claim AND d.status = %s")


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential (10 s, 20 s, 40 s, ... at most an hour) with ±20 % jitter, so that a
    provider's outage does not end in every worker retrying at the same instant."""
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    base = min(3600.0, 10.0 * (2 ** (attempts - 1)))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _row(delivery: Row, provider_id: str, stamp: Any) -> list[Any]:
    return [Status.SENT, delivery.attempts + 1, provider_id[:100], stamp, stamp, delivery.pk,
            delivery.claim, Status.SENDING]


def _all_at_once(sent: list[tuple[Row, str]], stamp: Any, sealed: set[int]) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_SENT_PG_SQL, [
                Status.SENT, stamp, stamp, [d.pk for d, _ in sent],
                [d.attempts + 1 for d, _ in sent], [p[:100] for _, p in sent],
                [d.claim for d, _ in sent], Status.SENDING])
            written = int(cursor.rowcount)
        else:
            cursor.executemany(_SENT_SQL, [_row(d, p, stamp) for d, p in sent])
            written = len(sent)
        # The provider has the secret of a sealed message: it is erased in the transaction
        # that records the send (delivery/sealing.py).
        sealing.sent(sealed)
        return written


def _one_by_one(sent: list[tuple[Row, str]], stamp: Any, sealed: set[int]) -> int:
    """A provider id in the group was already recorded for another delivery (a reconcile's
    guess): the provider's own answer wins, the guess is asked about again."""
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for delivery, provider_id in sent:
            try:
                with transaction.atomic():
                    cursor.execute(_SENT_SQL, _row(delivery, provider_id, stamp))
            except IntegrityError:
                take_provider_id(delivery.channel, provider_id[:100], delivery.pk)
                cursor.execute(_SENT_SQL, _row(delivery, provider_id, stamp))
            written += cursor.rowcount
        sealing.sent(sealed)
    return written


def finish_sent(sent: list[tuple[Row, str]], *, sealed: set[int] | None = None) -> int:
    """Record many sends the provider took (delivery, provider's id) in one transaction: a
    write transaction is what SQLite, and a busy PostgreSQL, serialise. `sealed`: the
    messages among them that carried a secret, erased in the same transaction."""
    if not sent:
        return 0
    stamp = db("sent_at", timezone.now())
    secrets = sealed or set()
    try:
        return write(lambda: _all_at_once(sent, stamp, secrets))
    except IntegrityError:
        return write(lambda: _one_by_one(sent, stamp, secrets))


def failed(delivery: Row, contact: ContactPoint | None, exc: TransportError,
           attempts: int) -> str:
    """Record a transport's error; returns the delivery's new status."""
    now = timezone.now()
    error = str(exc)[:300]
    if exc.timed_out:
        # It may have arrived: ask the provider later (reconcile_unknown), never resend blind.
        finish(delivery, status=Status.UNKNOWN, attempts=attempts, error=error,
               next_attempt_at=now + RECONCILE_DELAY)
        return Status.UNKNOWN
    if exc.permanent:
        fail(delivery, status=Status.FAILED, attempts=attempts, error=error, disable=contact)
        return Status.FAILED
    if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        fail(delivery, status=Status.DEAD, attempts=attempts, error=error)
        return Status.DEAD
    finish(delivery, status=Status.QUEUED, attempts=attempts, error=error,
           next_attempt_at=now + backoff(attempts, exc.retry_after))
    return Status.QUEUED


def outcome_of_error(delivery: Row, contact: ContactPoint | None, error: BaseException) -> str:
    attempts = delivery.attempts + 1
    if isinstance(error, TransportError):
        return failed(delivery, contact, error, attempts)
    # A bug in a backend must not wedge the queue: record and go on.
    log.error("delivery %s: the %s backend failed unexpectedly", delivery.pk, delivery.channel,
              exc_info=error)
    finish(delivery, status=Status.FAILED, attempts=attempts, error="internal error")
    return Status.FAILED
