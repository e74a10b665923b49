"""The measurement: the real alert fan-out next to a hand-written INSERT … SELECT.

"Ours" is the whole fan-out: `do_send_alert` on a confirmed incident, exactly as a verifier's
confirmation calls it (the message and its texts, the alert, its cells, the nearest
recipients' deliveries, the commit), then the worker's expansion of the rest, nearest first,
one committed chunk at a time (alerts/fanout.py), to the last row. "First" is the
confirmation alone: from the call until its transaction has committed the first deliverable
rows (a drain can send from then on). "Raw" is one hand-written statement that writes the
same delivery rows into the same table (after the previous rows are deleted), in its own
transaction: the floor of what the database can do for this alert.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from rapidresponse.alerts import fanout
from rapidresponse.alerts.actions import do_send_alert
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.models import Delivery
from rapidresponse.incidents.actions import build_report_input, do_submit_report
from rapidresponse.incidents.models import Incident, State
from rapidresponse.incidents.queries import facts_of

# The same rows as the fan-out, written by hand: every active member with a watch area
# within reach of the alert, once per usable contact, ranked by the nearest of its areas.
RAW_SQL = """
INSERT INTO delivery_delivery (message_id, member_id, channel, language, status, priority,
    rank, attempts, next_attempt_at, created_at, updated_at, claim, provider_id, error)
SELECT %(message)s, m.id, cp.kind, m.language, 'queued', %(priority)s, near.rank, 0,
    %(now)s, %(now)s, %(now)s, '', '', ''
FROM (SELECT wa.member_id AS member_id, MIN(ac.distance) AS rank
      FROM members_watcharea wa
      JOIN alerts_alertcell ac ON ac.alert_id = %(alert)s AND ac.cell = wa.cell
      WHERE ac.distance <= %(rings)s + wa.rings
      GROUP BY wa.member_id) near
JOIN members_member m ON m.id = near.member_id AND m.status = 'active'
JOIN members_contactpoint cp ON cp.member_id = m.id
WHERE cp.enabled AND cp.disabled_at IS NULL AND cp.verified_at IS NOT NULL
"""

# What identifies a set of delivery rows, to check that both ways wrote the same ones.
FINGERPRINT_SQL = """
SELECT COUNT(*), COUNT(DISTINCT member_id), SUM(member_id), SUM(rank), SUM(member_id * rank),
    SUM(CASE WHEN channel = 'email' THEN member_id ELSE 0 END),
    SUM(CASE WHEN language = 'es' THEN member_id ELSE 0 END),
    SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END)
FROM delivery_delivery WHERE message_id = %s
"""


@dataclass(frozen=True)
class Scenario:
    slug: str
    label: str
    latitude: float
    longitude: float
    radius_m: int


SCENARIOS = [
    # The whole city at once: every active member is a recipient (the 500k target).
    Scenario("city", "city-wide alert", 34.0407, -118.2468, 30_000),
    # The everyday case: the default 2 km alert in the densest neighbourhood.
    Scenario("local", "2 km alert", 34.0339, -118.2036, 2_000),
]


@dataclass
class Result:
    scenario: Scenario
    ours: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    # This process's CPU time: on SQLite (in-process) nearly all of the work, and steadier
    # than wall time on a busy machine; on PostgreSQL only the client's share.
    ours_cpu: list[float] = field(default_factory=list)
    raw_cpu: list[float] = field(default_factory=list)
    # Confirmation -> first deliverable rows committed, and how many rows that commit held.
    first: list[float] = field(default_factory=list)
    first_rows: int = 0
    chunks: int = 0
    recipients: int = 0
    rows: int = 0
    raw_rows: int = 0
    same_rows: bool = True
    alert_cells: int = 0


def _fingerprint(message_id: int) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_SQL, [message_id])
        row = cursor.fetchone()
    return tuple(int(v or 0) for v in row)


def _clear(message_id: int) -> None:
    """Delete the rows just written, so that the next timing starts from the same table."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The bench database holds no other deliveries; TRUNCATE leaves no dead rows.
            # CASCADE empties the tables that refer to deliveries (console log, receipts…).
            cursor.execute("TRUNCATE delivery_delivery CASCADE")
        else:
            cursor.execute("DELETE FROM delivery_delivery WHERE message_id = %s", [message_id])
    settle()


def settle() -> None:
    """Start each timing from the same state: fresh statistics, nothing left in the WAL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE delivery_delivery")
            try:
                cursor.execute("CHECKPOINT")
            except DatabaseError:
                pass  # needs superuser or pg_checkpoint; timings are only noisier without
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def confirmed_incident(scenario: Scenario) -> Incident:
    """A report at the scenario's place, confirmed (as a verifier's confirmation leaves it)."""
    report = do_submit_report(build_report_input({
        "latitude": scenario.latitude, "longitude": scenario.longitude,
        "activity": "arrests", "agency": "ice", "size": 6, "vehicles": 3,
    }), source="api")
    incident = report.incident
    incident.state = State.CONFIRMED
    incident.confirmed_at = timezone.now()
    incident.save(update_fields=["state", "confirmed_at", "updated_at"])
    return incident


def _confirm(incident: Incident, actor: Any, scenario: Scenario) -> tuple[float, Alert]:
    """The confirming transaction alone: until its first deliverable rows are committed."""
    with override_settings(ALERT_RADIUS_M=scenario.radius_m):
        started = time.perf_counter()
        alert = do_send_alert(facts_of(incident), actor)
        return time.perf_counter() - started, alert


def _ours(incident: Incident, actor: Any, scenario: Scenario,
          result: Result) -> tuple[float, float, Alert]:
    """The whole fan-out: the confirmation, then the worker's chunks to the end."""
    cpu_started = time.process_time()
    first, alert = _confirm(incident, actor, scenario)
    cpu = time.process_time() - cpu_started
    result.first.append(first)
    result.first_rows = Delivery.objects.filter(message_id=alert.message_id).count()  # untimed
    started, cpu_started = time.perf_counter(), time.process_time()
    result.chunks = 1 + fanout.expand_pending()
    seconds = first + time.perf_counter() - started
    cpu += time.process_time() - cpu_started
    alert.refresh_from_db()
    return seconds, cpu, alert


def measure_first(scenario: Scenario, rounds: int) -> list[float]:
    """More samples of confirmation -> first rows committed (for a p95), each alert's
    fan-out stopped after its first commit and its rows deleted."""
    actor, _created = get_user_model().objects.get_or_create(username="bench-verifier")
    incident = confirmed_incident(scenario)
    samples = []
    for _round in range(rounds):
        seconds, alert = _confirm(incident, actor, scenario)
        samples.append(seconds)
        Alert.objects.filter(pk=alert.pk).update(expand_to=alert.expanded_to)
        _clear(alert.message_id)
    return samples


def _raw(alert: Alert) -> tuple[float, float]:
    params: dict[str, Any] = {
        "message": alert.message_id, "priority": alert.message.priority, "now": timezone.now(),
        "alert": alert.pk, "rings": alert.rings}
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RAW_SQL, params)
    return time.perf_counter() - started, time.process_time() - cpu


def measure(scenario: Scenario, repeats: int) -> Result:
    """Alternate ours and raw (which goes first changes every round) and keep every time."""
    actor, _created = get_user_model().objects.get_or_create(username="bench-verifier")
    incident = confirmed_incident(scenario)
    result = Result(scenario)
    settle()
    for round_no in range(repeats):
        if round_no % 2 == 0:
            seconds, cpu, alert = _ours(incident, actor, scenario, result)
            ours_print = _fingerprint(alert.message_id)
            _clear(alert.message_id)
            raw_seconds, raw_cpu = _raw(alert)
            raw_print = _fingerprint(alert.message_id)
            _clear(alert.message_id)
        else:
            # The raw statement needs an alert's cells: take the previous round's alert,
            # whose deliveries are gone, then run ours on a new alert.
            raw_seconds, raw_cpu = _raw(alert)
            raw_print = _fingerprint(alert.message_id)
            _clear(alert.message_id)
            seconds, cpu, alert = _ours(incident, actor, scenario, result)
            ours_print = _fingerprint(alert.message_id)
            _clear(alert.message_id)
        result.ours.append(seconds)
        result.raw.append(raw_seconds)
        result.ours_cpu.append(cpu)
        result.raw_cpu.append(raw_cpu)
        result.recipients = alert.recipient_count
        result.rows = ours_print[0]
        result.raw_rows = raw_print[0]
        result.same_rows = result.same_rows and ours_print == raw_print
        result.alert_cells = alert.cells.count()
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank): with fewer than 20 samples, the slowest."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-95 * len(ordered) // 100) - 1))]
