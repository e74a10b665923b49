"""Background tasks: they carry no content, only "there is work in the outbox".

A drain task works for at most DRAIN_SLICE_S seconds. When it finds a full batch it asks for
one more drain task, so that idle workers (other processes, other machines) join in on a
large fan-out; when its time is up and work is left, it hands on to a fresh task instead of
holding a worker (and the queue's time limit) for the length of a city-wide alert.

The outbox is told of this task at start-up (DeliveryConfig.ready calls `register`): it
never imports this module, so the arrows point one way (tasks -> outbox)."""

from __future__ import annotations

import logging

from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from rapidresponse.delivery.outbox import claims, enqueue
from rapidresponse.delivery.outbox.draining import drain
from rapidresponse.lib.connections import refresh_connections

log = logging.getLogger(__name__)

DRAIN_SLICE_S = 60.0


def _queued_elsewhere() -> bool:
    """True when enqueueing hands the work to a worker (not run here and now)."""
    return not isinstance(drain_outbox.get_backend(), ImmediateBackend)


def _enqueue_another() -> None:
    try:
        drain_outbox.enqueue()
    except Exception:  # the queue is unreachable: the workers' timers drain the outbox
        log.exception("could not enqueue another drain task")


@task()
def drain_outbox() -> int:
    refresh_connections()
    try:
        if _queued_elsewhere() and claims.due_count(claims.BATCH) >= claims.BATCH:
            _enqueue_another()  # a large fan-out: let one more worker join in
        done = drain(max_seconds=DRAIN_SLICE_S)
        if _queued_elsewhere() and claims.has_due():
            _enqueue_another()  # time is up and work is left: hand on
        return done
    finally:
        refresh_connections()


def _wake_workers() -> None:
    drain_outbox.enqueue()


def register() -> None:
    """Queued deliveries wake the workers through this task (see outbox.enqueue)."""
    enqueue.when_queued(_wake_workers)
