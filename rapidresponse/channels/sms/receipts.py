"""Twilio's word on what became of the SMS we sent (the status callback)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from rapidresponse.channels.sms.models import DeliveryReceipt
from rapidresponse.channels.sms.twilio import PERMANENT_CODES, SENT_STATUSES
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.members.models import Channel, ContactPoint

FINAL_STATUSES = {"delivered", "undelivered", "failed", "canceled", "read"}


def record_status(delivery_id: int, message_sid: str, status: str,
                  error_code: int | None) -> bool:
    """Twilio's status callback for one delivery. Returns False if it matches nothing.

    A failure for good is written with the member's next channel in one transaction. The
    callback names the message itself, so if a reconcile guessed this SID for another
    delivery, that guess is undone (outbox.take_provider_id)."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("message")
                    .filter(pk=delivery_id, channel=Channel.SMS).first())
        if delivery is None or (delivery.provider_id and delivery.provider_id != message_sid):
            return False
        receipt = DeliveryReceipt.objects.filter(delivery=delivery).first()
        if receipt is not None and receipt.status in FINAL_STATUSES \
                and status not in FINAL_STATUSES:
            return True  # a late "sent" after "delivered": keep the final word
        DeliveryReceipt.objects.update_or_create(
            delivery=delivery, defaults={"message_sid": message_sid, "status": status,
                                         "error_code": error_code})
        now = timezone.now()
        if status in ("failed", "undelivered"):
            error = f"Twilio {status}" + (f" ({error_code})" if error_code else "")
            outbox.take_provider_id(Channel.SMS, message_sid, delivery.pk)
            # Also while the worker has not yet written down the send (it records outcomes
            # in groups): its write only applies to a delivery still `sending`.
            failed = Delivery.objects.filter(
                pk=delivery.pk, status__in=(Status.SENT, Status.UNKNOWN, Status.SENDING),
            ).update(status=Status.FAILED, error=error, provider_id=message_sid,
                     updated_at=now)
            if error_code in PERMANENT_CODES:
                ContactPoint.objects.filter(
                    member_id=delivery.member_id, kind=Channel.SMS, disabled_at__isnull=True,
                ).update(disabled_at=now, disabled_reason=error)
            if failed:
                outbox.fall_back(delivery)  # the member gets it on their next channel
        elif status in SENT_STATUSES and delivery.status == Status.UNKNOWN:
            # A send whose answer was lost is settled by the callback itself.
            outbox.take_provider_id(Channel.SMS, message_sid, delivery.pk)
            Delivery.objects.filter(pk=delivery.pk, status=Status.UNKNOWN).update(
                status=Status.SENT, provider_id=message_sid, sent_at=now, error="",
                updated_at=now)
    return True


def receipts_by_status(message_ids: list[int]) -> dict[str, int]:
    rows = (DeliveryReceipt.objects.filter(delivery__message_id__in=message_ids)
            .values("status").annotate(n=Count("delivery_id")))
    return {row["status"]: row["n"] for row in rows}
