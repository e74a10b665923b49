"""Messages that carry a secret (a one-time code): the secret reaches the transport, never a
table or a log.

Such a message is stored with MARK where the secret goes, and the app that wrote it keeps the
secret itself, encrypted, in its own table (rapidresponse.codes). That app registers a Keeper
here from its AppConfig.ready(): this layer never imports it. The outbox

- asks the keepers for the secret just before it hands a delivery to its transport, and sends
  the text with the secret in place of MARK (Outbound.text); what a backend may record or log
  is the text as stored, with MARK (Outbound.redacted);
- tells the keepers which messages were sent, in the transaction that records the sends, and
  they erase the secret. Sending the message again after that is refused (SecretGone: the
  delivery fails as "cannot prepare"); the person asks for a new code.

A text without MARK costs nothing here: no query, no call to a keeper.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

#: Stands for the secret in a stored message, and is what the message log shows instead.
MARK = "••••••"


class SecretGone(Exception):
    """No keeper holds the secret of this message any more (it was sent, it expired, or a
    newer code replaced it): the message is not sent with the mark in the secret's place."""


class Keeper(Protocol):
    def secret(self, message_id: int) -> str | None:
        """The secret of this message, or None when this keeper holds none for it."""
        ...

    def forget(self, message_ids: set[int]) -> None:
        """These messages were handed to a provider: erase their secrets."""
        ...


_keepers: list[Keeper] = []


def register(keeper: Keeper) -> None:
    if keeper not in _keepers:
        _keepers.append(keeper)


def is_sealed(text: str) -> bool:
    return MARK in text


def unseal(message_id: int, text: str) -> str:
    """The text to hand to the transport: MARK replaced by the message's secret. Raises
    SecretGone when the text has a MARK and no keeper holds its secret."""
    if MARK not in text:
        return text
    for keeper in _keepers:
        secret = keeper.secret(message_id)
        if secret:
            return text.replace(MARK, secret)
    raise SecretGone(f"message {message_id}: its secret is no longer kept")


def sent(message_ids: Iterable[int]) -> None:
    """These sealed messages were handed to a provider: their secrets are erased."""
    ids = set(message_ids)
    if ids:
        for keeper in _keepers:
            keeper.forget(ids)
