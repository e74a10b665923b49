"""Claims: a worker marks due deliveries as its own (`sending`, with its claim token and the
time) before it sends them, renews the claim just before a send that waited, and gives back
what it could not start in time.

A claim older than the lease (DELIVERY_LEASE_SECONDS) is taken to belong to a dead worker:
reconcile.sweep_stale_claims asks the provider about it before anything is resent."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from rapidresponse.delivery.models import Delivery, Kind, Message, Status
from rapidresponse.delivery.outbox.writes import Claimed, Row, db, execute, finish, write
from rapidresponse.members.models import ContactPoint, Member

BATCH = 200
# The default lease (settings.DELIVERY_LEASE_SECONDS): a claim older than this whose worker
# has not finished it is taken to belong to a dead worker.
STALE_CLAIM = timedelta(seconds=120)
# A claim this fresh cannot have been handed on by the stale-claim sweep, and an opt-out since
# it was read is no older than for a renewed one: it is sent without renewing it first. Older
# claims (a send that waited for a rate-limit token, or in line) are renewed just before.
RENEW_AFTER_S = 0.5


def lease() -> timedelta:
    return timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)


def batch_seconds() -> float:
    """A worker gives back what it has not started after this long, well inside its lease,
    so that nothing it holds looks abandoned and newer urgent work is claimed first."""
    return max(1.0, min(30.0, settings.DELIVERY_LEASE_SECONDS / 4))


def fresh_for() -> float:
    """How long a claim counts as fresh (see RENEW_AFTER_S), never near the lease."""
    return min(RENEW_AFTER_S, settings.DELIVERY_LEASE_SECONDS / 4)


def _claim_sql() -> str:
    """One statement. On PostgreSQL the due rows are locked and other workers skip them; the
    subquery is an array (evaluated once: as `IN (subquery)` it may be run again for rows
    it locked, and then skip to more rows than `limit`). On SQLite the statement holds the
    write lock from its first read, so two workers never claim one row."""
    due = ("SELECT id FROM delivery_delivery WHERE status = %s AND next_attempt_at <= %s "
           'ORDER BY priority, "rank", id LIMIT %s')
    if connection.vendor == "postgresql":
        ids = f"= ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"
    else:
        ids = f"IN ({due})"
    return ("UPDATE delivery_delivery SET status = %s, claim = %s, claimed_at = %s, "  # noqa: S608 - SQL function names only  # nosec B608
            f"updated_at = %s WHERE status = %s AND id {ids}")


def _claim(limit: int) -> str:
    """Mark up to `limit` due deliveries as ours, most urgent and nearest first: our token."""
    token = secrets.token_hex(8)
    stamp = db("claimed_at", timezone.now())
    execute(_claim_sql(), [Status.SENDING, token, stamp, stamp, Status.QUEUED, Status.QUEUED,
                           stamp, limit])
    return token


_CLAIMED_SQL = (
    'SELECT d.id, d.message_id, d.member_id, d.channel, d.language, d.priority, d."rank", '
    "d.attempts, m.status, cp.id, cp.value_encrypted, cp.disabled_at "
    "FROM delivery_delivery d JOIN members_member m ON m.id = d.member_id "
    "LEFT JOIN members_contactpoint cp ON cp.member_id = d.member_id AND cp.kind = d.channel "
    'WHERE d.status = %s AND d.claim = %s ORDER BY d.priority, d."rank", d.id')


def claim(limit: int = BATCH, messages: dict[int, Message] | None = None) -> list[Claimed]:
    """Claim up to `limit` due deliveries and read what sending them needs in one query (the
    engine's claim: no model instances but the contact points). `messages` caches messages
    by id across batches (a fan-out's deliveries share one)."""
    token = _claim(limit)
    claimed_at = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIMED_SQL, [Status.SENDING, token])
        rows = cursor.fetchall()
    cache = messages if messages is not None else {}
    missing = {row[1] for row in rows} - cache.keys()
    if missing:
        cache.update(Message.objects.in_bulk(list(missing)))
    found = []
    for (pk, message_id, member_id, channel, language, priority, rank, attempts, status,
         contact_id, value, disabled_at) in rows:
        contact = None
        if contact_id is not None and disabled_at is None and value:
            contact = ContactPoint(id=contact_id, member_id=member_id, kind=channel,
                                   value_encrypted=value)
        found.append(Claimed(pk=pk, message=cache[message_id], member_id=member_id,
                             channel=channel, language=language, priority=priority, rank=rank,
                             attempts=attempts, claim=token, member_status=status,
                             contact=contact, claimed_at=claimed_at))
    return found


def claim_batch(limit: int = BATCH) -> list[Delivery]:
    """Claim up to `limit` due deliveries, most urgent and nearest first, as model instances
    (with their message and member)."""
    token = _claim(limit)
    return list(Delivery.objects.filter(claim=token, status=Status.SENDING)
                .select_related("message", "member").order_by("priority", "rank", "id"))


def release(token: str, ids: list[int]) -> int:
    """Give back claimed deliveries that were never started: queued again, untouched."""
    if not ids:
        return 0
    return write(lambda: Delivery.objects.filter(
        id__in=ids, claim=token, status=Status.SENDING,
    ).update(status=Status.QUEUED, claim="", claimed_at=None, updated_at=timezone.now()))


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


def _renew(claim_token: str, ids: list[int]) -> set[int]:
    marks = ", ".join(["%s"] * len(ids))
    stamp = db("claimed_at", timezone.now())

    def run() -> set[int]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_RENEW_SQL.format(ids=marks), [
                Status.SENDING, stamp, claim_token, Status.SENDING, Status.UNKNOWN, *ids,
                Kind.CONFIRMATION, Member.Status.OPTED_OUT])
            cursor.execute(_RENEWED_SQL.format(ids=marks),
                           [claim_token, Status.SENDING, stamp, *ids])
            return {int(row[0]) for row in cursor.fetchall()}
    return write(run)


def renew(rows: list[Row]) -> tuple[set[int], int]:
    """Renew our claim on these rows just before sending them (one statement per claim).
    Returns the ids still ours, and how many were settled here: a row the stale-claim sweep
    handed on (queued again, or found already sent) is not ours to send, and one whose
    member opted out after the claim is skipped."""
    by_claim: dict[str, list[int]] = {}
    for row in rows:
        by_claim.setdefault(row.claim, []).append(row.pk)
    renewed: set[int] = set()
    for claim_token, ids in by_claim.items():
        renewed |= _renew(claim_token, ids)
    lost = [r for r in rows if r.pk not in renewed]
    settled = 0
    if lost:
        opted_out = set(Member.objects.filter(
            pk__in={r.member_id for r in lost}, status=Member.Status.OPTED_OUT,
        ).values_list("pk", flat=True))
        for row in lost:
            if row.member_id in opted_out and row.message.kind != Kind.CONFIRMATION:
                # Opted out (an SMS STOP) after this batch was claimed: nothing more, ever.
                finish(row, status=Status.SKIPPED, error="member opted out")
                settled += 1
    return renewed, settled


def has_due() -> bool:
    return Delivery.objects.filter(status=Status.QUEUED,
                                   next_attempt_at__lte=timezone.now()).exists()


def due_count(limit: int) -> int:
    """How many deliveries are due now, counting no further than `limit`."""
    return len(Delivery.objects.filter(status=Status.QUEUED, next_attempt_at__lte=timezone.now())
               .values_list("id", flat=True)[:limit])
