"""Enforcing the retention rules every app registered (registry.retention)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from rapidresponse.jobs.registry import periodic, retention_rules

RETENTION_EVERY_S = 3600


def deleted(qs: QuerySet[Any]) -> int:
    """How many rows of the queryset's own model were deleted (not counting cascades)."""
    return qs.delete()[1].get(qs.model._meta.label, 0)


def enforce_retention(now: datetime | None = None) -> dict[str, int]:
    """Run every rule (each in a transaction of its own); how many rows each one deleted
    or erased, by rule name."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for rule in retention_rules():
        with transaction.atomic():
            result = rule.enforce(now)
        if isinstance(result, dict):
            done.update(result)
        else:
            done[rule.name] = result
    return done


@periodic("retention", every_s=RETENTION_EVERY_S)
def _hourly() -> None:
    enforce_retention()
