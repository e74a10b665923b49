"""The fan-out's background work: the task a confirmation enqueues, and every worker's
periodic job that resumes a fan-out a killed worker left half-written (alerts/fanout.py).

A task expands for at most EXPAND_SLICE_S and then hands on to a fresh task, so that the
drain tasks queued meanwhile (the messages of the chunks just committed) are not held up
behind a city-wide expansion in a worker with one task at a time."""

from __future__ import annotations

import logging

from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend

from rapidresponse.alerts import fanout
from rapidresponse.jobs.registry import periodic
from rapidresponse.lib.connections import refresh_connections

log = logging.getLogger(__name__)

EXPAND_SLICE_S = 5.0
EXPAND_EVERY_S = 5


def _queued_elsewhere() -> bool:
    return not isinstance(expand_fan_outs.get_backend(), ImmediateBackend)


@task()
def expand_fan_outs() -> int:
    refresh_connections()
    try:
        if not _queued_elsewhere():
            return fanout.expand_pending()  # run here and now: to the end
        chunks = fanout.expand_pending(max_seconds=EXPAND_SLICE_S)
        if fanout.pending():
            _enqueue()  # time is up and fan-outs are left: hand on
        return chunks
    finally:
        refresh_connections()


def _enqueue() -> None:
    try:
        expand_fan_outs.enqueue()
    except Exception:  # the queue is unreachable: every worker's periodic job expands
        log.exception("could not enqueue the fan-out task")


@periodic("alerts.expand_fan_outs", every_s=EXPAND_EVERY_S)
def resume_fan_outs() -> None:
    """Go on with any fan-out left half-written (a worker killed mid-chunk, a lost task)."""
    fanout.expand_pending(max_seconds=EXPAND_SLICE_S)


def register() -> None:
    """A confirmation starts its fan-out's expansion through this task (see fanout.begin)."""
    fanout.when_expanding(_enqueue)
