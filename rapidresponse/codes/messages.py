"""What a code is for, and the message that carries it, in every language members choose.

The message is written with sealing.MARK where the code goes: the outbox puts the code there
when it hands the message to a provider (delivery/sealing.py), so no table holds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapidresponse.delivery import sealing
from rapidresponse.members.models import language_codes

Body = dict[str, str]


@dataclass(frozen=True)
class Purpose:
    """What a code is for. `text` is translatable and may use %(network)s, %(code)s and
    %(minutes)s (how long the code is valid). Apps define their purposes next to the
    actions that use them; `name` is what the code's row records."""

    name: str
    text: Promise
    subject: Promise = _("Your code")
    ttl: timedelta = timedelta(minutes=30)
    max_attempts: int = 5

    @property
    def minutes(self) -> int:
        return int(self.ttl.total_seconds() // 60)


def in_every_language(compose: Callable[[], Body]) -> dict[str, Body]:
    """The bodies of one message ({"subject", "text"}) in every language members choose:
    `compose` is called once with each language active."""
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            bodies[lang] = compose()
    return bodies


def code_bodies(purpose: Purpose) -> dict[str, Body]:
    """The message that carries a code for `purpose`, with the mark where the code goes."""
    def compose() -> Body:
        return {"subject": str(purpose.subject),
                "text": str(purpose.text) % {"network": settings.NETWORK_NAME,
                                             "code": sealing.MARK,
                                             "minutes": purpose.minutes}}
    return in_every_language(compose)
