"""Who may receive a message at all, and on which of their channels: the one definition.

Every audience is built on this: an alert's (rapidresponse.alerts.audience: the members an
alert area reaches, then their eligible contacts), a follow-up's, and the outbox's fall-back
to a member's next channel (delivery/outbox/fallback.py). A contact is eligible when the
member is active and the contact is enabled (the member wants messages there), confirmed
and not disabled (ContactPointQuerySet.usable; in raw SQL, ELIGIBLE_CONTACT_SQL). A drill
reaches the same people: the outbox sends a drill to the console only (delivery/transport)."""

from __future__ import annotations

from collections.abc import Collection

from rapidresponse.members.models import USABLE_CONTACT_SQL, ContactPoint, ContactPointQuerySet

#: The same rule as `eligible_contacts()` for raw SQL: `cp` a contact point row, `m` its member.
ELIGIBLE_CONTACT_SQL = USABLE_CONTACT_SQL

# When a channel fails for good, the member gets the message on the next of these that is
# eligible and has not been used for this message yet.
FALLBACK_ORDER = ("sms", "push", "signal", "email")


def eligible_contacts() -> ContactPointQuerySet:
    """Every contact point a message may go to (each is one channel of one member)."""
    return ContactPoint.objects.usable()


def next_channel(member_id: int, used: Collection[str]) -> str | None:
    """The member's next eligible channel in FALLBACK_ORDER that is not in `used`."""
    eligible = set(eligible_contacts().filter(member_id=member_id, kind__in=FALLBACK_ORDER)
                   .values_list("kind", flat=True))
    return next((kind for kind in FALLBACK_ORDER if kind in eligible and kind not in used),
                None)
