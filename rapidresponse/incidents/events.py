"""What the apps above incidents want to hear about, told after the transaction commits: a
new incident (its first report), and an SMS conversation that waits for a dispatcher (the
hotline could not place it). The switchboard registers here to offer the work to the
dispatchers on shift; incidents never imports it.

A listener runs once the change is committed, outside the action's transaction (its failure
is logged and cannot undo the report), and must do its own writes in a transaction."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from rapidresponse.channels.sms.models import SmsThread
from rapidresponse.incidents.models import Incident

_new_incident: dict[str, Callable[[Incident], object]] = {}
_thread_waiting: dict[str, Callable[[SmsThread], object]] = {}


def on_new_incident(name: str) -> Callable[[Callable[[Incident], object]],
                                           Callable[[Incident], object]]:
    """Register a listener of new incidents (a decorator), in AppConfig.ready()."""
    def register(fn: Callable[[Incident], object]) -> Callable[[Incident], object]:
        _new_incident[name] = fn
        return fn
    return register


def on_thread_waiting(name: str) -> Callable[[Callable[[SmsThread], object]],
                                             Callable[[SmsThread], object]]:
    """Register a listener of SMS conversations left for a dispatcher (a decorator)."""
    def register(fn: Callable[[SmsThread], object]) -> Callable[[SmsThread], object]:
        _thread_waiting[name] = fn
        return fn
    return register


def new_incident(incident: Incident) -> None:
    for fn in list(_new_incident.values()):
        transaction.on_commit(lambda fn=fn: fn(incident), robust=True)  # type: ignore[misc]


def thread_waiting(thread: SmsThread) -> None:
    for fn in list(_thread_waiting.values()):
        transaction.on_commit(lambda fn=fn: fn(thread), robust=True)  # type: ignore[misc]
