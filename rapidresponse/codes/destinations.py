"""Where a code goes: a phone number or an email address, known by a blind index of its own.

A phone is one destination whether the code goes by SMS or over Signal, so the hourly limit
counts every code sent to that phone, whatever the purpose and the channel."""

from __future__ import annotations

from dataclasses import dataclass

from rapidresponse.lib import crypto
from rapidresponse.members.contacts import PHONE_KINDS, normalise
from rapidresponse.members.models import Channel, ContactPoint


def destination_index(kind: str, normalised: str) -> str:
    """The blind index of a phone or email as a code's destination. Keyed like a contact
    point's index, but of another name: the two cannot be matched with each other."""
    if kind in PHONE_KINDS:
        return crypto.blind_index("code-destination", f"phone:{normalised}")
    if kind == Channel.EMAIL:
        return crypto.blind_index("code-destination", f"email:{normalised.lower()}")
    raise ValueError(f"a code cannot be sent to a {kind} contact")


@dataclass(frozen=True)
class Destination:
    """A phone or email a code goes to (`channel`: sms, email or signal), or was sent to."""

    channel: str
    index: str
    # The member's contact point the code is sent to. None for an address typed on a page
    # (to find the code sent to it), and later for an address that is no member's.
    contact: ContactPoint | None = None

    @classmethod
    def contact_point(cls, contact: ContactPoint) -> Destination:
        return cls(channel=contact.kind, index=destination_index(contact.kind, contact.value),
                   contact=contact)

    @classmethod
    def typed(cls, kind: str, raw: str) -> Destination:
        """A phone or email as someone typed it. Raises ValidationError."""
        return cls(channel=kind, index=destination_index(kind, normalise(kind, raw)))
