"""Jobs the worker runs on a timer. Each is idempotent, so several workers may run them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

from rapidresponse.delivery import outbox
from rapidresponse.incidents.actions import do_expire_stale
from rapidresponse.web.retention import enforce_retention

log = logging.getLogger(__name__)

OUTBOX_EVERY_S = 5
HOUSEKEEPING_EVERY_S = 60
RETENTION_EVERY_S = 3600


# The periodic drain picks up retries that came due; new work arrives through tasks.
DRAIN_SLICE_S = 30.0


def _guarded(job: Callable[[], object]) -> None:
    """One failing job (a provider that cannot be asked, say) must not stop the others."""
    try:
        job()
    except Exception:
        log.exception("periodic job %s failed", getattr(job, "__name__", job))


def run_once(tick: int) -> None:
    _guarded(outbox.sweep_stale_claims)
    _guarded(outbox.reconcile_unknown)
    _guarded(lambda: outbox.drain(max_seconds=DRAIN_SLICE_S))
    if tick % (HOUSEKEEPING_EVERY_S // OUTBOX_EVERY_S) == 0:
        _guarded(do_expire_stale)
    if tick % (RETENTION_EVERY_S // OUTBOX_EVERY_S) == 0:
        _guarded(enforce_retention)


def loop(stop: threading.Event) -> None:
    tick = 0
    while not stop.is_set():
        try:
            run_once(tick)
        except Exception:
            log.exception("periodic job failed")
        finally:
            close_old_connections()
        tick += 1
        stop.wait(OUTBOX_EVERY_S)


def start_in_background() -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(stop,), name="periodic", daemon=True)
    thread.start()
    time.sleep(0)
    return thread, stop
