"""Writing delivery rows: one retry helper for every write (SQLite under several writers
briefly refuses one), outcomes recorded only while the delivery is still ours, and the rule
that a provider's message id belongs to one delivery only."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import OperationalError, connection
from django.db.models import Field
from django.utils import timezone

from rapidresponse.delivery.models import Delivery, Message, Status
from rapidresponse.members.models import ContactPoint

T = TypeVar("T")


@dataclass(eq=False)
class Claimed:
    """A delivery as the engine holds it once claimed: only what sending it needs, read in
    one query with its member's status and contact point (claims.claim)."""

    pk: int
    message: Message
    member_id: int
    channel: str
    language: str
    priority: int
    rank: int
    attempts: int
    claim: str
    member_status: str
    contact: ContactPoint | None
    claimed_at: float = 0.0  # time.monotonic() of the claim (0: unknown, renew before use)

    @property
    def message_id(self) -> int:
        return int(self.message.pk)


Row = Delivery | Claimed


def write(update: Callable[[], T]) -> T:
    """A write that survives a briefly locked database (SQLite under several writers). Inside
    a caller's transaction it runs once: the caller's transaction is what gets retried."""
    for attempt in range(4):
        try:
            return update()
        except OperationalError:
            if connection.in_atomic_block:
                raise
            time.sleep(0.05 * (attempt + 1))
    return update()  # the last try: its error is the caller's


def execute(sql: str, params: list[Any]) -> int:
    """One statement (retried by `write`); the number of rows it changed."""
    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)
    return write(run)


def field(name: str) -> Field[Any, Any]:
    found = Delivery._meta.get_field(name)
    assert isinstance(found, Field)
    return found


def db(name: str, value: Any) -> Any:
    """`value` as the database stores the Delivery field `name` (for raw SQL)."""
    return field(name).get_db_prep_save(value, connection)


def finish(delivery: Row, **fields: object) -> int:
    """Record an outcome, if the delivery is still ours: our claim, and still `sending` (a
    status callback that already reported a failure keeps its word)."""
    fields["updated_at"] = timezone.now()
    names = sorted(fields)
    # Column names come from the model's own fields (get_field raises for anything else).
    columns = ", ".join(f"{connection.ops.quote_name(field(n).column)} = %s" for n in names)
    sql = (f"UPDATE delivery_delivery SET {columns} "  # noqa: S608 - column names from the model  # nosec B608
           "WHERE id = %s AND claim = %s AND status = %s")
    return execute(sql, [db(n, fields[n]) for n in names]
                   + [delivery.pk, delivery.claim, Status.SENDING])


def take_provider_id(channel: str, provider_id: str, owner: int) -> int:
    """The provider said itself that `provider_id` is delivery `owner`'s message (a send's
    answer, a status callback for that delivery). Any other delivery of the channel holding it
    got it from a reconcile's guess: it goes back to `unknown`, to be asked about again (by
    then the id is accounted for, so it is queued again instead). Returns how many."""
    if not provider_id:
        return 0
    now = timezone.now()
    return Delivery.objects.filter(channel=channel, provider_id=provider_id).exclude(
        pk=owner).update(status=Status.UNKNOWN, provider_id="", next_attempt_at=now,
                         updated_at=now, error="its provider message was another delivery's")
