"""Retention rules of the outbox (enforced by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.delivery.models import ConsoleMessage, Delivery, Kind, Message
from rapidresponse.jobs.registry import not_personal, personal_data, retention
from rapidresponse.jobs.retention import deleted


def _not_protected(qs: models.QuerySet[Message]) -> models.QuerySet[Message]:
    """Messages no other table protects: an alert keeps its message (and deletes it with
    itself, by its own rule)."""
    for relation in Message._meta.related_objects:
        if relation.on_delete is models.PROTECT:
            qs = qs.filter(**{f"{relation.name}__isnull": True})
    return qs


@retention("deliveries", model="delivery.Delivery",
           rule=_("deleted RETENTION_DELIVERY_DAYS after they were queued"))
def deliveries(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_DELIVERY_DAYS)
    return deleted(Delivery.objects.filter(created_at__lt=cutoff))


@retention("messages", model="delivery.Message",
           rule=_("deleted RETENTION_DELIVERY_DAYS after they were written, unless an alert "
                "keeps its message (then with the alert)"))
def messages(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_DELIVERY_DAYS)
    return deleted(_not_protected(Message.objects.filter(created_at__lt=cutoff)))


@retention("code_messages", model="delivery.Message",
           rule=_("one-time codes and confirmation links: deleted a day after they were written"))
def code_messages(now: datetime) -> int:
    return deleted(Message.objects.filter(kind=Kind.CONFIRMATION,
                                          created_at__lt=now - timedelta(days=1)))


@retention("console_messages", model="delivery.ConsoleMessage",
           rule=_("deleted after RETENTION_CONSOLE_MESSAGE_DAYS"))
def console_messages(now: datetime) -> int:
    return deleted(ConsoleMessage.objects.filter(
        created_at__lt=now - timedelta(days=settings.RETENTION_CONSOLE_MESSAGE_DAYS)))


@retention("console_codes", model="delivery.ConsoleMessage",
           rule=_("records of codes whose delivery is gone: deleted after a day"))
def console_codes(now: datetime) -> int:
    return deleted(ConsoleMessage.objects.filter(delivery__isnull=True,
                                                 created_at__lt=now - timedelta(days=1)))


personal_data(
    "delivery.Message", fields=("bodies",), category="messages",
    purpose=_("what was sent, in each language: alerts (from structured fields only), "
            "dispatchers' replies, notices; a one-time code is never stored, only a mark"),
    protection=_("plain"), retention=("messages", "code_messages", "incidents"))
personal_data(
    "delivery.Delivery", fields=("member", "error"), category="messages",
    purpose=_("who got which message on which channel, and what the provider said"),
    protection=_("the provider's error code and status, never a number or an address"),
    retention=("deliveries",))
personal_data(
    "delivery.ConsoleMessage", fields=("member", "text"), category="messages",
    purpose=_("what the console backends 'sent' (demo and drills): the message log"),
    protection=_("the contact masked; a code message masked"), retention=("console_messages",
                                                                      "console_codes"))
not_personal("delivery.RateBucket", fields=("key",),
             why=_("the name of a provider's rate limit: a channel, or one of the network's "
                   "own sender numbers"))
