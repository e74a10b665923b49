"""A channel that fails for good hands the message on to the member's next channel.

The failure and the next channel's delivery are written in one transaction (`fail`), so a
worker killed between the two cannot leave a member with a failed delivery and nothing
queued in its place: either both are written, or neither is and the delivery is still
claimed, to be reconciled and tried again like any other lost send."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rapidresponse.delivery.models import Delivery, Kind
from rapidresponse.delivery.outbox.enqueue import schedule_drain
from rapidresponse.delivery.outbox.writes import Row, finish, write
from rapidresponse.members.audience import FALLBACK_ORDER, next_channel
from rapidresponse.members.models import ContactPoint

__all__ = ["FALLBACK_ORDER", "fail", "fall_back"]


def fall_back(delivery: Row) -> Delivery | None:
    """The member's channel failed for good: queue the same message on their next usable
    channel (members.audience: FALLBACK_ORDER, eligible contacts) not yet used for it. Call
    it in the transaction that records the failure (`fail` does)."""
    if delivery.message.kind == Kind.CONFIRMATION or delivery.channel not in FALLBACK_ORDER:
        return None  # a code confirms one contact point; partners have only their endpoint
    used = set(Delivery.objects.filter(message_id=delivery.message_id,
                                       member_id=delivery.member_id)
               .values_list("channel", flat=True))
    kind = next_channel(delivery.member_id, used)
    if kind is None:
        return None
    now = timezone.now()
    Delivery.objects.bulk_create([Delivery(
        message_id=delivery.message_id, member_id=delivery.member_id, channel=kind,
        language=delivery.language, priority=delivery.priority, rank=delivery.rank,
        next_attempt_at=now, created_at=now, updated_at=now)], ignore_conflicts=True)
    schedule_drain()
    return Delivery.objects.filter(message_id=delivery.message_id,
                                   member_id=delivery.member_id, channel=kind).first()


def fail(delivery: Row, *, status: str, error: str, attempts: int | None = None,
         disable: ContactPoint | None = None) -> bool:
    """Record that a claimed delivery failed for good (`failed`, or `dead` after its last
    attempt) and queue the member's next channel, in one transaction; `disable` the contact
    point too when the provider says it will never work. Nothing is written unless the
    delivery is still ours (see writes.finish). True when it was."""
    fields: dict[str, object] = {"status": status, "error": error}
    if attempts is not None:
        fields["attempts"] = attempts

    def run() -> bool:
        with transaction.atomic():
            if disable is not None:
                ContactPoint.objects.filter(pk=disable.pk).update(
                    disabled_at=timezone.now(), disabled_reason=error[:200])
            if not finish(delivery, **fields):
                return False
            fall_back(delivery)
            return True
    return write(run)

