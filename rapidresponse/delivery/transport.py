"""The channel interface. Each kind of contact (sms, email, ...) has one backend chosen in
settings.CHANNEL_BACKENDS, the way Django chooses EMAIL_BACKEND."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class TransportError(Exception):
    """A send failed. Permanent errors disable the contact point; others are retried."""

    def __init__(self, message: str, *, permanent: bool = False,
                 retry_after: float | None = None, timed_out: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.timed_out = timed_out


@dataclass(frozen=True)
class Outbound:
    delivery_id: int
    member_id: int
    channel: str
    to: str
    to_masked: str
    language: str
    subject: str
    text: str
    is_drill: bool
    kind: str
    #: For a message that carries a secret (delivery/sealing.py): the text as stored, with
    #: the secret masked. Backends record and log `record_text`, never `text` itself.
    redacted: str | None = None

    @property
    def record_text(self) -> str:
        """What a backend may write to a table or a log: the text, a secret masked."""
        return self.text if self.redacted is None else self.redacted


@dataclass(frozen=True)
class Attempt:
    """What is known of a send whose outcome was lost (worker killed, request timed out)."""

    delivery_id: int
    provider_id: str
    to: str
    started_at: datetime | None
    text: str = ""  # what was being sent, for providers that keep the body to compare


class Reconciled(str):
    """What `Transport.reconcile` found: "sent" or "failed", and the provider's id for the
    message it found, when it found one. Recording that id means a second lost send to the
    same address is never matched to the same message."""

    provider_id: str

    def __new__(cls, verdict: str, provider_id: str = "") -> Reconciled:
        found = super().__new__(cls, verdict)
        found.provider_id = provider_id
        return found


class Transport:
    """Base class for channel backends."""

    kind: str = ""
    #: False for backends that only record (console): drills may only use those.
    is_live: bool = True

    def send(self, message: Outbound) -> str:
        """Send one message; return the provider's id for it. Raise TransportError."""
        raise NotImplementedError

    def reconcile(self, attempt: Attempt) -> str | None:
        """After a crash or time-out: 'sent', 'failed', or None when it cannot be known.
        A backend that finds the message returns Reconciled("sent", provider_id=...)."""
        return None

    def rate_limit_key(self, message: Outbound) -> str:
        """The token bucket a send draws from (settings.CHANNEL_RATE_LIMITS[kind] tokens a
        second): one per channel here; a backend may split it, e.g. one per SMS sender."""
        return self.kind

    def describe(self) -> str:
        return type(self).__name__


@cache
def transport_for(kind: str) -> Transport:
    path = settings.CHANNEL_BACKENDS.get(kind)
    if not path:
        raise KeyError(f"no backend configured for channel {kind!r}")
    return import_string(path)()  # type: ignore[no-any-return]


@cache
def drill_transport_for(kind: str) -> Transport:
    """Drills never reach a live provider: they always go to the console backend."""
    path = settings.CHANNEL_BACKEND_NAMES[kind]["console"]
    return import_string(path)()  # type: ignore[no-any-return]


def transport(kind: str, *, is_drill: bool) -> Transport:
    chosen = transport_for(kind)
    if is_drill and chosen.is_live:
        return drill_transport_for(kind)
    return chosen


def channel_kinds() -> list[str]:
    return list(settings.CHANNEL_BACKENDS)
