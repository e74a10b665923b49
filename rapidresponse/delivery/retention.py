"""Retention rules of the outbox (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from rapidresponse.delivery.models import ConsoleMessage, Delivery, Kind, Message
from rapidresponse.jobs.registry import retention
from rapidresponse.jobs.retention import deleted


def _not_protected(qs: models.QuerySet[Message]) -> models.QuerySet[Message]:
    """Messages no other table protects: an alert keeps its message (and deletes it with
    itself, by its own rule)."""
    for relation in Message._meta.related_objects:
        if relation.on_delete is models.PROTECT:
            qs = qs.filter(**{f"{relation.name}__isnull": True})
    return qs


@retention("deliveries", model="delivery.Delivery",
           rule="deleted RETENTION_DELIVERY_DAYS after they were queued")
def deliveries(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_DELIVERY_DAYS)
    return deleted(Delivery.objects.filter(created_at__lt=cutoff))


@retention("messages", model="delivery.Message",
           rule="deleted RETENTION_DELIVERY_DAYS after they were written, unless an alert "
                "keeps its message (then with the alert)")
def messages(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_DELIVERY_DAYS)
    return deleted(_not_protected(Message.objects.filter(created_at__lt=cutoff)))


@retention("code_messages", model="delivery.Message",
           rule="one-time codes and confirmation links: deleted a day after they were written")
def code_messages(now: datetime) -> int:
    return deleted(Message.objects.filter(kind=Kind.CONFIRMATION,
                                          created_at__lt=now - timedelta(days=1)))


@retention("console_messages", model="delivery.ConsoleMessage",
           rule="deleted after RETENTION_CONSOLE_MESSAGE_DAYS")
def console_messages(now: datetime) -> int:
    return deleted(ConsoleMessage.objects.filter(
        created_at__lt=now - timedelta(days=settings.RETENTION_CONSOLE_MESSAGE_DAYS)))


@retention("console_codes", model="delivery.ConsoleMessage",
           rule="records of codes whose delivery is gone: deleted after a day")
def console_codes(now: datetime) -> int:
    return deleted(ConsoleMessage.objects.filter(delivery__isnull=True,
                                                 created_at__lt=now - timedelta(days=1)))
