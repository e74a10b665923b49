"""The worker's timer: every periodic job registered (registry.periodic) on its own schedule.
Each job is idempotent, so several workers may run them."""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections

from rapidresponse.jobs.registry import PeriodicJob, periodic_jobs

log = logging.getLogger(__name__)

TICK_S = 5.0


def _guarded(job: PeriodicJob) -> None:
    """One failing job (a provider that cannot be asked, say) must not stop the others."""
    try:
        job.run()
    except Exception:
        log.exception("periodic job %s failed", job.name)


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Run every job whose interval has passed since it last ran (every job, the first
    time). Returns the names of the jobs run."""
    ran = []
    for job in periodic_jobs():
        last = last_run.get(job.name)
        if last is None or now - last >= job.every_s - 0.001:
            last_run[job.name] = now
            _guarded(job)
            ran.append(job.name)
    return ran


def loop(stop: threading.Event) -> None:
    last_run: dict[str, float] = {}
    while not stop.is_set():
        try:
            run_due(last_run, time.monotonic())
        finally:
            close_old_connections()
        stop.wait(TICK_S)


def start_in_background() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop,), name="periodic", daemon=True)
    thread.start()
    return thread, stop
