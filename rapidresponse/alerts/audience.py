"""Who receives an alert, and who receives its all-clear or correction: the one definition,
used to write the deliveries (alerts/fanout.py, alerts/actions.py) and to count them before
anyone confirms (alerts/preview.py). Both read the same SQL, built here.

A **new alert** reaches every member with a watch area within reach: the area's cell is at
most `alert rings + the area's rings` rings from the alert's centre cell. Each such member
gets the alert on every eligible contact (members.audience: active member; contact enabled,
confirmed, not disabled), ranked by the distance of the nearest of their areas, in their
language. A **follow-up** (all-clear, correction) reaches exactly the alerted set: every
(member, channel) the alert was written for (fall-backs included), members still active.

The cells come from the alert's own AlertCell rows when it has been sent (a range of
distances at a time: the fan-out goes nearest first), or from the cells an alert at a place
would have, for a preview."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from rapidresponse.lib import geo
from rapidresponse.members.audience import ELIGIBLE_CONTACT_SQL

DELIVERY_COLUMNS = """INSERT INTO delivery_delivery (message_id, member_id, channel, language,
    status, priority, rank, attempts, next_attempt_at, created_at, updated_at, claim,
    provider_id, error)"""
# What a delivery row is made of, from `member_id`, `channel`, `language`, `rank` below.
DELIVERY_VALUES = ("%(message)s, {member}, {channel}, {language}, 'queued', %(priority)s, "
                   "{rank}, 0, %(now)s, %(now)s, %(now)s, '', '', ''")

# Members whose watch areas the alert reaches, with the distance of their nearest such area;
# `{cells}` is a table `ac(cell, distance)`, `{where}` narrows it.
REACHED_SQL = """SELECT wa.member_id AS member_id, MIN(ac.distance) AS dist
      FROM {cells} JOIN members_watcharea wa ON wa.cell = ac.cell
      WHERE {where}ac.distance <= %(rings)s + wa.rings
      GROUP BY wa.member_id"""

NEW_ALERT_SQL = """SELECT {columns}
FROM ({reached}) d
JOIN members_member m ON m.id = d.member_id
JOIN members_contactpoint cp ON cp.member_id = m.id
WHERE {eligible}{fresh}"""

# A member already written for the message (from a nearer chunk) is not written again: one
# probe of the unique (message, member, channel) index, cheaper than ON CONFLICT DO NOTHING
# (which cost a quarter more on SQLite, see `make bench`).
NOT_YET_WRITTEN = """ AND NOT EXISTS (SELECT 1 FROM delivery_delivery x
    WHERE x.message_id = %(message)s AND x.member_id = d.member_id)"""

FOLLOW_UP_SQL = """SELECT {columns}
FROM delivery_delivery d JOIN members_member m ON m.id = d.member_id
WHERE d.message_id {messages} AND m.status = 'active'"""

ALERT_CELLS = "alerts_alertcell ac"
ALERT_CELLS_WHERE = "ac.alert_id = %(alert)s AND ac.distance BETWEEN %(lo)s AND %(hi)s AND "


def alert_rings() -> int:
    """An alert's radius (ALERT_RADIUS_M) in rings of member-resolution cells."""
    return geo.rings_for_radius(settings.ALERT_RADIUS_M, settings.H3_MEMBER_RESOLUTION)


def max_watch_rings() -> int:
    """The widest watch area's radius in rings: how far beyond its own area an alert looks."""
    return geo.rings_for_radius(settings.MAX_WATCH_RADIUS_M, settings.H3_MEMBER_RESOLUTION)


def _new_alert(columns: str, cells: str, where: str, fresh: str = "") -> str:
    reached = REACHED_SQL.format(cells=cells, where=where)
    return NEW_ALERT_SQL.format(columns=columns, reached=reached, eligible=ELIGIBLE_CONTACT_SQL,
                                fresh=fresh)


def insert_new_alert(*, message: int, priority: int, now: Any, alert: int, rings: int,
                     lo: int, hi: int) -> int:
    """Write the deliveries of a sent alert's recipients whose nearest area is `lo`..`hi`
    rings away, skipping members already written (their nearest area is nearer). Returns the
    rows written."""
    sql = DELIVERY_COLUMNS + "\n" + _new_alert(
        DELIVERY_VALUES.format(member="m.id", channel="cp.kind", language="m.language",
                               rank="d.dist"), ALERT_CELLS, ALERT_CELLS_WHERE, NOT_YET_WRITTEN)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"message": message, "priority": priority, "now": now,
                             "alert": alert, "rings": rings, "lo": lo, "hi": hi})
        return max(cursor.rowcount, 0)


def insert_follow_up(*, message: int, priority: int, now: Any, original: int) -> int:
    """Write a follow-up's deliveries: one per delivery of the `original` message to an
    active member. Returns the rows written."""
    sql = DELIVERY_COLUMNS + "\n" + FOLLOW_UP_SQL.format(
        columns=DELIVERY_VALUES.format(member="d.member_id", channel="d.channel",
                                       language="m.language", rank="d.rank"),
        messages="= %(original)s")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"message": message, "priority": priority, "now": now,
                             "original": original})
        return max(cursor.rowcount, 0)


@dataclass
class Counts:
    """An audience counted: members per (channel, language), and members per language."""

    by_channel_language: dict[tuple[str, str], int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)

    @property
    def members(self) -> int:
        return sum(self.by_language.values())

    @property
    def rows(self) -> int:
        return sum(self.by_channel_language.values())

    def by_channel(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for (channel, _language), n in self.by_channel_language.items():
            counts[channel] += n
        return dict(sorted(counts.items()))

    def on_channel(self, channel: str) -> dict[str, int]:
        return {language: n for (kind, language), n in self.by_channel_language.items()
                if kind == channel}


def _count(select: str, params: dict[str, Any]) -> Counts:
    # Only this module's constant SQL is joined here; every value is a parameter.
    per_pair = ("SELECT r.channel, r.language, COUNT(DISTINCT r.member_id) FROM ("  # noqa: S608 # nosec B608
                + select + ") r GROUP BY r.channel, r.language")
    per_language = ("SELECT r.language, COUNT(DISTINCT r.member_id) FROM ("  # noqa: S608 # nosec B608
                    + select + ") r GROUP BY r.language")
    counts = Counts()
    with connection.cursor() as cursor:
        cursor.execute(per_pair, params)
        counts.by_channel_language = {(str(c), str(lang)): int(n)
                                      for c, lang, n in cursor.fetchall()}
        cursor.execute(per_language, params)
        counts.by_language = {str(lang): int(n) for lang, n in cursor.fetchall()}
    return counts


def count_new_alert(cell: int) -> Counts:
    """Who an alert about `cell` would reach if it were sent now (as insert_new_alert
    writes them, every distance at once)."""
    center = geo.parent(cell, settings.H3_MEMBER_RESOLUTION)
    rings = alert_rings()
    pairs = list(geo.rings(center, rings + max_watch_rings()))
    params: dict[str, Any] = {"rings": rings}
    if connection.vendor == "postgresql":
        cells = "unnest(%(cells)s::bigint[], %(distances)s::integer[]) AS ac(cell, distance)"
        params.update(cells=[c for c, _d in pairs], distances=[d for _c, d in pairs])
    else:
        cells = ("(SELECT json_extract(value, '$[0]') AS cell, json_extract(value, '$[1]')"
                 " AS distance FROM json_each(%(cells)s)) ac")
        params["cells"] = json.dumps(pairs)
    columns = "m.id AS member_id, cp.kind AS channel, m.language AS language"
    return _count(_new_alert(columns, cells, ""), params)


def count_follow_up(incident_id: int) -> Counts:
    """Who an all-clear or correction about the incident would reach now: the alerted set
    of each of its alerts (as insert_follow_up writes them)."""
    columns = "d.member_id AS member_id, d.channel AS channel, m.language AS language"
    select = FOLLOW_UP_SQL.format(
        columns=columns,
        messages="IN (SELECT message_id FROM alerts_alert WHERE incident_id = %(incident)s"
                 " AND kind = 'alert')")
    return _count(select, {"incident": incident_id})
