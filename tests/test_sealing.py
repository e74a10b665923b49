"""The outbox's hook for messages that carry a secret (delivery/sealing.py): the provider gets
the secret, the stored message keeps only the mark, and the secret's keeper is told to erase
it once the send is recorded. Observed at the far side: the Twilio stub's received bodies."""

from __future__ import annotations

from typing import Any

import pytest

from rapidresponse.delivery import outbox, sealing
from rapidresponse.delivery.models import Delivery, Status
from tests.conftest import make_member
from tests.stubs.twilio_stub import serve_for

PHONE = "+12135550101"


class Keeper:
    """A keeper like the codes app's: secrets by message id, erased when told."""

    def __init__(self) -> None:
        self.secrets: dict[int, str] = {}
        self.asked: list[int] = []
        self.forgotten: list[set[int]] = []

    def secret(self, message_id: int) -> str | None:
        self.asked.append(message_id)
        return self.secrets.get(message_id)

    def forget(self, message_ids: set[int]) -> None:
        self.forgotten.append(message_ids & set(self.secrets))
        for message_id in message_ids:
            self.secrets.pop(message_id, None)


KEEPER = Keeper()
sealing.register(KEEPER)  # answers only for the messages of these tests


@pytest.fixture
def twilio(settings: Any) -> Any:
    yield from serve_for(settings)


def sealed_message(member: Any, secret: str) -> Any:
    text = f"your code is {sealing.MARK}."
    message = outbox.send_to_member(member, "confirmation", {"en": {"text": text}},
                                    channels=["sms"])
    KEEPER.secrets[message.pk] = secret
    return message


def test_the_provider_gets_the_secret_and_the_stored_message_only_the_mark(twilio, db):
    member = make_member("Ana", "en", phone=PHONE)
    message = sealed_message(member, "482913")
    outbox.drain()
    [sent] = twilio.messages_to(PHONE)
    assert sent.body == "your code is 482913."
    message.refresh_from_db()
    assert message.bodies == {"en": {"text": f"your code is {sealing.MARK}."}}
    assert Delivery.objects.get(message=message).status == Status.SENT


def test_the_keeper_erases_the_secret_once_the_send_is_recorded(twilio, db):
    member = make_member("Ana", "en", phone=PHONE)
    message = sealed_message(member, "482913")
    outbox.drain()
    assert {message.pk} in KEEPER.forgotten
    assert message.pk not in KEEPER.secrets


def test_a_message_whose_secret_is_gone_is_not_sent_with_the_mark(twilio, db):
    member = make_member("Ana", "en", phone=PHONE)
    message = sealed_message(member, "482913")
    del KEEPER.secrets[message.pk]
    outbox.drain()
    assert twilio.messages_to(PHONE) == []
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == Status.FAILED
    assert delivery.error == "cannot prepare: SecretGone"


def test_a_message_without_the_mark_never_asks_a_keeper(twilio, db):
    member = make_member("Ana", "en", phone=PHONE)
    KEEPER.asked.clear()
    outbox.send_to_member(member, "notice", {"en": {"text": "Meeting at 7."}})
    outbox.drain()
    [sent] = twilio.messages_to(PHONE)
    assert sent.body == "Meeting at 7." and KEEPER.asked == []
