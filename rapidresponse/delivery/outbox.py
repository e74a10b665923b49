"""The outbox: messages and deliveries written with the action that caused them, delivered
by the worker. Tasks carry no message content, so a lost task or killed worker loses nothing:
the rows are the truth and the sweep picks up whatever a task did not finish."""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from rapidresponse.delivery.models import PRIORITY, Delivery, Kind, Message, Status
from rapidresponse.delivery.transport import Attempt, Outbound, TransportError, transport
from rapidresponse.members.models import ContactPoint, Member

log = logging.getLogger(__name__)

BATCH = 200
STALE_CLAIM = timedelta(minutes=2)


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

    transaction.on_commit(lambda: drain_outbox.enqueue())


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


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    base = min(3600.0, 10.0 * (2 ** (attempts - 1)))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _finish(delivery: Delivery, **fields: object) -> None:
    fields["updated_at"] = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(**fields)


def _still_ours(delivery: Delivery) -> bool:
    """Renew our claim just before sending. False when the stale-claim sweep has handed the
    delivery on (queued again, or found already sent): then it is not ours to send."""
    return bool(Delivery.objects.filter(
        pk=delivery.pk, claim=delivery.claim, status__in=(Status.SENDING, Status.UNKNOWN),
    ).update(status=Status.SENDING, claimed_at=timezone.now()))


def send_one(delivery: Delivery, contacts: dict[tuple[int, str], ContactPoint]) -> str:
    message = delivery.message
    member = delivery.member
    if member.status == Member.Status.OPTED_OUT and message.kind != Kind.CONFIRMATION:
        _finish(delivery, status=Status.SKIPPED, error="member opted out")
        return Status.SKIPPED
    contact = contacts.get((member.pk, delivery.channel))
    if contact is None or contact.disabled_at is not None or not contact.value_encrypted:
        _finish(delivery, status=Status.FAILED, error="no usable contact point")
        return Status.FAILED
    body = message.body(delivery.language)
    outbound = Outbound(
        delivery_id=delivery.pk, member_id=member.pk, channel=delivery.channel,
        to=contact.value, to_masked=contact.masked, language=delivery.language,
        subject=body.get("subject", ""), text=body["text"], is_drill=message.is_drill,
        kind=message.kind,
    )
    if not _still_ours(delivery):
        return Status.SENDING  # another worker has it now
    backend = transport(delivery.channel, is_drill=message.is_drill)
    attempts = delivery.attempts + 1
    try:
        provider_id = backend.send(outbound)
    except TransportError as exc:
        now = timezone.now()
        if exc.timed_out:
            _finish(delivery, status=Status.UNKNOWN, attempts=attempts, error=str(exc)[:300])
            return Status.UNKNOWN
        if exc.permanent:
            ContactPoint.objects.filter(pk=contact.pk).update(
                disabled_at=now, disabled_reason=str(exc)[:200])
            _finish(delivery, status=Status.FAILED, attempts=attempts, error=str(exc)[:300])
            return Status.FAILED
        if attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            _finish(delivery, status=Status.DEAD, attempts=attempts, error=str(exc)[:300])
            return Status.DEAD
        _finish(delivery, status=Status.QUEUED, attempts=attempts, error=str(exc)[:300],
                next_attempt_at=now + _backoff(attempts, exc.retry_after))
        return Status.QUEUED
    _finish(delivery, status=Status.SENT, attempts=attempts, provider_id=provider_id[:100],
            sent_at=timezone.now(), error="")
    return Status.SENT


def drain(max_batches: int | None = None) -> int:
    """Deliver everything that is due. Returns how many deliveries were attempted."""
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        batch = claim_batch()
        if not batch:
            break
        batches += 1
        member_ids = {d.member_id for d in batch}
        contacts = {(c.member_id, c.kind): c
                    for c in ContactPoint.objects.filter(member_id__in=member_ids)}
        for delivery in batch:
            try:
                send_one(delivery, contacts)
            except Exception:  # a bug must not wedge the queue: record and go on
                log.exception("delivery %s failed unexpectedly", delivery.pk)
                _finish(delivery, status=Status.FAILED, error="internal error")
            done += 1
    return done


def attempt_of(delivery: Delivery) -> Attempt:
    contact = ContactPoint.objects.filter(member_id=delivery.member_id,
                                          kind=delivery.channel).first()
    to = contact.value if contact is not None and contact.value_encrypted else ""
    return Attempt(delivery_id=delivery.pk, provider_id=delivery.provider_id, to=to,
                   started_at=delivery.claimed_at)


def sweep_stale_claims() -> int:
    """Deliveries claimed by a worker that died: reconcile with the provider, never resend
    blindly. Backends that cannot tell leave the delivery as 'unknown' for staff."""
    cutoff = timezone.now() - STALE_CLAIM
    fixed = 0
    stale = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).select_related(
        "message")
    for delivery in stale.iterator():
        backend = transport(delivery.channel, is_drill=delivery.message.is_drill)
        verdict = backend.reconcile(attempt_of(delivery))
        now = timezone.now()
        if verdict == "sent":
            fields: dict[str, object] = {"status": Status.SENT, "sent_at": now}
        elif verdict == "failed":
            fields = {"status": Status.QUEUED, "next_attempt_at": now}
        else:
            fields = {"status": Status.UNKNOWN, "error": "worker stopped during send"}
        fixed += Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            updated_at=now, **fields)
    if fixed:
        schedule_drain()
    return fixed
