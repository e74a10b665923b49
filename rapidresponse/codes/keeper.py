"""The codes' side of delivery/sealing.py: a code is kept encrypted on its row only until the
message carrying it is handed to a provider. Registered by CodesConfig.ready()."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.jobs.registry import periodic
from rapidresponse.lib import crypto

ERASE_EVERY_S = 60
# Deliveries in these states may still hand the message to a provider.
PENDING = (Status.QUEUED, Status.SENDING, Status.UNKNOWN)


class CodeKeeper:
    def secret(self, message_id: int) -> str | None:
        """The code of this message, while it still works (unused, unexpired)."""
        kept = (OneTimeCode.objects
                .filter(message_id=message_id, used_at__isnull=True,
                        expires_at__gt=timezone.now())
                .exclude(secret_encrypted="").values_list("secret_encrypted", flat=True).first())
        return crypto.decrypt(kept) if kept else None

    def forget(self, message_ids: set[int]) -> None:
        OneTimeCode.objects.filter(message_id__in=message_ids).exclude(
            secret_encrypted="").update(secret_encrypted="")


@periodic("codes.erase_spent_secrets", every_s=ERASE_EVERY_S)
def erase_spent_secrets() -> int:
    """Secrets the outbox's hook did not erase: codes used, replaced or expired, and codes
    whose message was settled another way (a lost send the provider confirmed, a send that
    failed for good, a message deleted)."""
    now = timezone.now()
    pending = Delivery.objects.filter(message_id=OuterRef("message_id"), status__in=PENDING)
    return (OneTimeCode.objects.exclude(secret_encrypted="")
            .filter(Q(used_at__isnull=False) | Q(expires_at__lte=now)
                    | Q(message__isnull=True) | ~Exists(pending))
            .update(secret_encrypted=""))
