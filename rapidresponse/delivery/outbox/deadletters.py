"""The dead letters: what staff must look at, and their "Send again"."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.delivery.outbox.enqueue import schedule_drain


def dead_letters() -> Any:
    """Given up after the last attempt, or fate unknown."""
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
