"""The outbox's periodic jobs (run by every worker, see rapidresponse.jobs) and what a worker
loads before its first send."""

from __future__ import annotations

from django.conf import settings

from rapidresponse.delivery import outbox
from rapidresponse.delivery.outbox.engine import senders
from rapidresponse.delivery.transport import channel_kinds, transport_for
from rapidresponse.jobs.registry import periodic, warm_up

OUTBOX_EVERY_S = 5
# The periodic drain picks up retries that came due; new work arrives through tasks.
DRAIN_SLICE_S = 30.0


@periodic("outbox.sweep_stale_claims", every_s=OUTBOX_EVERY_S)
def sweep_stale_claims() -> None:
    outbox.sweep_stale_claims()


@periodic("outbox.reconcile_unknown", every_s=OUTBOX_EVERY_S)
def reconcile_unknown() -> None:
    outbox.reconcile_unknown()


@periodic("outbox.drain", every_s=OUTBOX_EVERY_S)
def drain() -> None:
    outbox.drain(max_seconds=DRAIN_SLICE_S)


@warm_up("channel backends")
def load_backends() -> None:
    for kind in channel_kinds():
        transport_for(kind)


@warm_up("sender threads")
def start_senders() -> None:
    """The process's sender threads and their HTTP clients, before the first drain needs
    them (see outbox.engine.Senders)."""
    senders(settings.DELIVERY_CONCURRENCY)
