"""Putting messages in the outbox: a Message and one Delivery per member and channel, written
in the transaction of the action that caused them. The worker is told on commit.

Who is told is registered at start-up (`when_queued`): rapidresponse.delivery.tasks registers
its drain task from DeliveryConfig.ready, so this module never imports the task queue (the
task itself imports the engine: the arrows point one way)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from rapidresponse.delivery.models import PRIORITY, Delivery, Kind, Message
from rapidresponse.members.models import Member

log = logging.getLogger(__name__)

_wake: list[Callable[[], object]] = []


def when_queued(wake: Callable[[], object]) -> None:
    """Register what tells the workers that deliveries are due (the drain task's enqueue)."""
    if wake not in _wake:
        _wake.append(wake)


def _tell_workers() -> None:
    for wake in _wake:
        wake()


def schedule_drain() -> None:
    """Once the current transaction commits, tell the workers there is work. `robust`: a task
    queue that cannot be reached (Redis down) must not turn the action that was just
    committed into an error page; the worker's timer drains the outbox anyway."""
    if not _wake:
        log.warning("no drain task registered: deliveries wait for the worker's timer")
        return
    transaction.on_commit(_tell_workers, robust=True)


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


def delivery_counts(message_ids: Iterable[int]) -> dict[str, int]:
    rows = (Delivery.objects.filter(message_id__in=list(message_ids))
            .values("status").annotate(n=Count("id")))
    return {row["status"]: row["n"] for row in rows}
