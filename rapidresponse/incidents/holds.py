"""What keeps an incident from being deleted by its own retention rule.

Apps above incidents keep records that belong to an incident (evidence) and may need it kept
longer than RETENTION_INCIDENT_DAYS. Each registers a hold when it is ready: a function giving
the ids of the incidents it holds (a queryset of ids, used as a subquery). The incidents rule
skips every held incident; it is deleted on a later run, once nothing holds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

Holder = Callable[[], "QuerySet[Any]"]

_holds: dict[str, Holder] = {}


def hold(name: str) -> Callable[[Holder], Holder]:
    """Register a function () -> queryset of the incident ids it holds (a decorator)."""
    def register(fn: Holder) -> Holder:
        _holds[name] = fn
        return fn
    return register


def held_q() -> Q:
    """Incidents some app holds (a condition on Incident)."""
    condition = Q(pk__in=[])
    for fn in _holds.values():
        condition |= Q(pk__in=fn())
    return condition
