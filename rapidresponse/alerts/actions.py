"""Sending alerts, all-clears and corrections."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.utils import timezone

from rapidresponse.alerts.compose import AlertFacts, compose, place_name
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery, Message
from rapidresponse.lib import geo
from rapidresponse.members.models import USABLE_CONTACT_SQL

Actor = User | AnonymousUser | None

FANOUT_SQL = """
INSERT INTO delivery_delivery (message_id, member_id, channel, language, status, priority,
    rank, attempts, next_attempt_at, created_at, updated_at, claim, provider_id, error)
SELECT %(message)s, m.id, cp.kind, m.language, 'queued', %(priority)s, d.dist, 0,
    %(now)s, %(now)s, %(now)s, '', '', ''
FROM (SELECT wa.member_id AS member_id, MIN(ac.distance) AS dist
      FROM alerts_alertcell ac JOIN members_watcharea wa ON wa.cell = ac.cell
      WHERE ac.alert_id = %(alert)s AND ac.distance <= %(rings)s + wa.rings
      GROUP BY wa.member_id) d
JOIN members_member m ON m.id = d.member_id
JOIN members_contactpoint cp ON cp.member_id = m.id
WHERE """ + USABLE_CONTACT_SQL  # noqa: S608 - a constant, no input  # nosec B608

FOLLOW_UP_SQL = """
INSERT INTO delivery_delivery (message_id, member_id, channel, language, status, priority,
    rank, attempts, next_attempt_at, created_at, updated_at, claim, provider_id, error)
SELECT %(message)s, d.member_id, d.channel, m.language, 'queued', %(priority)s, d.rank, 0,
    %(now)s, %(now)s, %(now)s, '', '', ''
FROM delivery_delivery d JOIN members_member m ON m.id = d.member_id
WHERE d.message_id = %(original)s AND m.status = 'active'
"""


#: Who wants to hear of an alert once it is sent (a confirmed incident's alert, drills too:
#: `alert.is_drill` says which), registered by the apps above in AppConfig.ready(). Each
#: listener runs after the commit, outside the alert's transaction (its failure is logged
#: and cannot undo the alert), and does its own writes in a transaction.
AlertListener = Callable[[Alert], object]
_alert_listeners: dict[str, AlertListener] = {}


def on_alert_sent(name: str) -> Callable[[AlertListener], AlertListener]:
    def register(fn: AlertListener) -> AlertListener:
        _alert_listeners[name] = fn
        return fn
    return register


def alert_rings() -> int:
    return geo.rings_for_radius(settings.ALERT_RADIUS_M, settings.H3_MEMBER_RESOLUTION)


def max_watch_rings() -> int:
    return geo.rings_for_radius(settings.MAX_WATCH_RADIUS_M, settings.H3_MEMBER_RESOLUTION)


def write_alert_cells(alert: Alert) -> None:
    # A wide alert has thousands of cells: no model instances (bulk_create took ~0.2 s for a
    # city-wide alert's 6,000 cells), and on PostgreSQL one statement over two arrays
    # (0.09 s, against 0.4 s for executemany). See `make bench`.
    reach = alert.rings + max_watch_rings()
    rows = list(geo.rings(alert.center_cell, reach))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO alerts_alertcell (alert_id, cell, distance) SELECT %s, a.cell, a.d"
                " FROM unnest(%s::bigint[], %s::integer[]) AS a(cell, d)",
                [alert.pk, [c for c, _d in rows], [d for _c, d in rows]])
        else:
            cursor.executemany(
                "INSERT INTO alerts_alertcell (alert_id, cell, distance) VALUES (%s, %s, %s)",
                [(alert.pk, c, d) for c, d in rows])


def fan_out(alert: Alert, message: Message) -> int:
    """Write one delivery per recipient and channel in a single INSERT ... SELECT."""
    with connection.cursor() as cursor:
        cursor.execute(FANOUT_SQL, {"message": message.pk, "priority": message.priority,
                                    "now": timezone.now(), "alert": alert.pk,
                                    "rings": alert.rings})
    return Delivery.objects.filter(message=message).values("member_id").distinct().count()


def _user(actor: Actor) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None  # type: ignore[return-value]


@transaction.atomic
def do_send_alert(facts: AlertFacts, actor: Actor) -> Alert:
    message = outbox.create_message("alert", compose("alert", facts), is_drill=facts.is_drill)
    alert = Alert.objects.create(
        incident_id=facts.incident_id, kind=Alert.Kind.ALERT, message=message,
        is_drill=facts.is_drill, activity=facts.activity, agency=facts.agency,
        center_cell=geo.parent(facts.cell, settings.H3_MEMBER_RESOLUTION),
        rings=alert_rings(), radius_m=settings.ALERT_RADIUS_M,
        area_name=place_name(facts), created_by=_user(actor))
    write_alert_cells(alert)
    alert.recipient_count = fan_out(alert, message)
    alert.save(update_fields=["recipient_count"])
    outbox.schedule_drain()
    for fn in list(_alert_listeners.values()):
        transaction.on_commit(lambda fn=fn: fn(alert), robust=True)  # type: ignore[misc]
    return alert


@transaction.atomic
def do_send_follow_up(facts: AlertFacts, kind: str, actor: Actor) -> list[Alert]:
    """All-clear or correction: to exactly the recipients of each original alert."""
    sent = []
    for original in Alert.objects.filter(incident_id=facts.incident_id,
                                         kind=Alert.Kind.ALERT).select_related("message"):
        message = outbox.create_message(kind, compose(kind, facts), is_drill=facts.is_drill)
        follow = Alert.objects.create(
            incident_id=facts.incident_id, kind=kind, original=original, message=message,
            is_drill=facts.is_drill, activity=facts.activity, agency=facts.agency,
            center_cell=original.center_cell, rings=original.rings,
            radius_m=original.radius_m, area_name=original.area_name,
            created_by=_user(actor))
        with connection.cursor() as cursor:
            cursor.execute(FOLLOW_UP_SQL, {"message": message.pk, "priority": message.priority,
                                           "now": timezone.now(),
                                           "original": original.message_id})
        follow.recipient_count = (Delivery.objects.filter(message=message)
                                  .values("member_id").distinct().count())
        follow.save(update_fields=["recipient_count"])
        sent.append(follow)
    outbox.schedule_drain()
    return sent


def has_alert(incident_id: int) -> bool:
    return Alert.objects.filter(incident_id=incident_id, kind=Alert.Kind.ALERT).exists()
