"""Sending alerts, all-clears and corrections."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.utils import timezone

from rapidresponse.alerts import audience, fanout
from rapidresponse.alerts.audience import alert_rings, max_watch_rings
from rapidresponse.alerts.compose import AlertFacts, compose, place_name
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery
from rapidresponse.lib import geo

__all__ = ["alert_rings", "do_send_alert", "do_send_follow_up", "has_alert", "max_watch_rings"]

Actor = User | AnonymousUser | None


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


def write_alert_cells(alert: Alert) -> None:
    # A wide alert has thousands of cells: no model instances (bulk_create took ~0.2 s for a
    # city-wide alert's 6,000 cells), and on PostgreSQL one statement over two arrays
    # (0.09 s, against 0.4 s for executemany), on SQLite one over a JSON array. The
    # confirmation waits for them (see `make bench`: confirmation -> first rows).
    reach = alert.rings + max_watch_rings()
    rows = list(geo.rings(alert.center_cell, reach))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO alerts_alertcell (alert_id, cell, distance) SELECT %s, a.cell, a.d"
                " FROM unnest(%s::bigint[], %s::integer[]) AS a(cell, d)",
                [alert.pk, [c for c, _d in rows], [d for _c, d in rows]])
        else:  # one statement over a JSON array: 0.01 s against executemany's 0.04 s
            cursor.execute(
                "INSERT INTO alerts_alertcell (alert_id, cell, distance) SELECT %s,"
                " json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(%s)",
                [alert.pk, json.dumps(rows)])


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
    outbox.schedule_drain()  # first: a worker sends the nearest while the rest is written
    fanout.begin(alert)  # the nearest recipients now, the rest in the worker (fanout.py)
    for fn in list(_alert_listeners.values()):
        transaction.on_commit(lambda fn=fn: fn(alert), robust=True)  # type: ignore[misc]
    return alert


@transaction.atomic
def do_send_follow_up(facts: AlertFacts, kind: str, actor: Actor) -> list[Alert]:
    """All-clear or correction: to exactly the recipients of each original alert. An alert
    whose fan-out is still expanding stops where it is: nobody more gets it, and the
    follow-up goes to everyone who got it or has it queued (alerts/fanout.py)."""
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
        fanout.stop(original.pk)
        audience.insert_follow_up(message=message.pk, priority=message.priority,
                                  now=timezone.now(), original=original.message_id)
        follow.recipient_count = (Delivery.objects.filter(message=message)
                                  .values("member_id").distinct().count())
        follow.save(update_fields=["recipient_count"])
        sent.append(follow)
    outbox.schedule_drain()
    return sent


def has_alert(incident_id: int) -> bool:
    return Alert.objects.filter(incident_id=incident_id, kind=Alert.Kind.ALERT).exists()
