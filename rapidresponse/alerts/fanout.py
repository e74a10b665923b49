"""An alert's fan-out: nearest recipients first, in committed chunks, so that the first
messages leave at once however large the alert.

    confirmation (one transaction)          worker (expand_pending), one chunk per transaction
    ------------------------------          ---------------------------------------------------
    message, alert, its cells               lock the alert; lo = expanded_to + 1
    distances 0, 1, ... until at least  ->  write distances lo..hi (about FANOUT_CHUNK_ROWS)
      FANOUT_FIRST_ROWS rows are written    expanded_to = hi; commit; again until expand_to
    commit: the drain starts sending        (the drain sends what is committed meanwhile)

Who is written is alerts.audience's definition, one range of distances at a time: a member
is written in the chunk of their nearest watch area (a member already written from a nearer
one is skipped), so the rows are exactly those of a single statement.

Crash-proof: a chunk's rows and the alert's `expanded_to` are committed together, so a
worker killed mid-chunk leaves the alert where the last commit left it, and the next
expand_pending (a task, or every worker's periodic job) goes on from there. Nobody is
written twice: members already written are skipped, and the unique (message, member,
channel) constraint stands behind that. The alert row is locked for each chunk, so two
workers never write the same chunk.

A follow-up stops an expanding fan-out where it is (`stop`): after an all-clear or a
correction, nobody more gets the alert, and the follow-up reaches exactly those who got it
or have it queued (alerts.audience)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapidresponse.alerts import audience
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import PRIORITY, Delivery, Kind

#: While a worker expands, it tells the drain about new rows at most this often.
WAKE_EVERY_S = 1.0
#: Each chunk is twice the one before, up to this many times FANOUT_CHUNK_ROWS. Every chunk
#: inserts into the deliveries' member-ordered indexes across their whole width, so many
#: small chunks cost far more than a few growing ones (1.5-3x the single statement for
#: 6-45 equal chunks of a 100k-member city-wide alert on SQLite); the rows already queued
#: keep the providers busy for minutes while a big chunk is written.
GROWTH_LIMIT = 8

_kicks: list[Callable[[], object]] = []


def cells_at(distance: int) -> int:
    return 1 if distance == 0 else 6 * distance


def recipients(alert: Alert) -> int:
    """Members the alert has been written for (on any channel)."""
    return (Delivery.objects.filter(message_id=alert.message_id)
            .values("member_id").distinct().count())


def _write(alert: Alert, lo: int, hi: int, now: datetime) -> int:
    return audience.insert_new_alert(
        message=alert.message_id, priority=PRIORITY[Kind.ALERT], now=now, alert=alert.pk,
        rings=alert.rings, lo=lo, hi=hi)


def begin(alert: Alert) -> None:
    """In the confirming transaction, after the alert's cells: write the nearest recipients
    until at least FANOUT_FIRST_ROWS rows (or all of them) are written; the worker writes
    the rest once this commits."""
    alert.expand_to = alert.rings + audience.max_watch_rings()
    now = timezone.now()
    rows, distance = 0, 0
    while distance <= alert.expand_to and rows < settings.FANOUT_FIRST_ROWS:
        rows += _write(alert, distance, distance, now)
        distance += 1
    alert.expanded_to = distance - 1
    alert.recipient_count = recipients(alert)
    alert.save(update_fields=["expand_to", "expanded_to", "recipient_count"])
    if alert.expanding:
        for kick in _kicks:
            transaction.on_commit(kick, robust=True)


def when_expanding(kick: Callable[[], object]) -> None:
    """Register what starts the expansion once a confirming transaction commits (the
    alerts task, see tasks.py)."""
    if kick not in _kicks:
        _kicks.append(kick)


def expand_step(alert_id: int, per_cell: float | None = None,
                target: int | None = None) -> tuple[bool, float | None]:
    """Write the next chunk of one alert's fan-out and commit it: about `target` rows
    (FANOUT_CHUNK_ROWS by default), sized with `per_cell`, the rows per cell of the chunk
    before (None: one distance). Returns (more to do, rows per cell of this chunk)."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update(of=("self",)).filter(pk=alert_id).first()
        if alert is None or not alert.expanding:
            return False, per_cell
        lo = hi = alert.expanded_to + 1
        if per_cell:
            cells, wanted = cells_at(lo), (target or settings.FANOUT_CHUNK_ROWS) / per_cell
            while hi < alert.expand_to and cells + cells_at(hi + 1) <= wanted:
                hi += 1
                cells += cells_at(hi)
        rows = _write(alert, lo, hi, timezone.now())
        alert.expanded_to = hi
        fields = ["expanded_to"]
        if not alert.expanding:
            alert.recipient_count = recipients(alert)
            fields.append("recipient_count")
        alert.save(update_fields=fields)
        cells = sum(cells_at(d) for d in range(lo, hi + 1))
        return alert.expanding, max(rows / cells, 0.01)


def pending() -> list[int]:
    """Alerts whose fan-out is still expanding, oldest first."""
    return list(Alert.objects.filter(kind=Alert.Kind.ALERT, expanded_to__lt=F("expand_to"))
                .order_by("created_at", "id").values_list("pk", flat=True))


def expand_pending(max_seconds: float | None = None) -> int:
    """Expand every expanding fan-out, oldest first, chunk by committed chunk (for at most
    `max_seconds`), telling the drain about new rows as they commit. Returns the chunks
    written."""
    stop_at = time.monotonic() + max_seconds if max_seconds is not None else None
    chunks, woken = 0, 0.0
    for alert_id in pending():
        more, per_cell, target = True, None, settings.FANOUT_CHUNK_ROWS
        while more:
            if stop_at is not None and time.monotonic() >= stop_at:
                return chunks
            more, per_cell = expand_step(alert_id, per_cell, target)
            chunks += 1
            target = min(2 * target, GROWTH_LIMIT * settings.FANOUT_CHUNK_ROWS)
            if time.monotonic() - woken >= WAKE_EVERY_S:
                woken = time.monotonic()
                outbox.schedule_drain()
    if chunks:
        outbox.schedule_drain()
    return chunks


def stop(alert_id: int) -> None:
    """A follow-up is being sent: the alert's fan-out stops where it is (its audience is now
    exactly who was written). Call it in the follow-up's transaction, before its rows are
    written: the lock waits for a chunk being written to commit."""
    alert = Alert.objects.select_for_update(of=("self",)).get(pk=alert_id)
    if alert.expanding:
        alert.expand_to = alert.expanded_to
        alert.recipient_count = recipients(alert)
        alert.save(update_fields=["expand_to", "recipient_count"])
