"""The outbox's hook for messages that carry a secret (delivery/sealing.py): the provider gets
the secret, the stored message keeps only the mark, and the secret's keeper is told to erase
it once the send is recorded. Observed at the far side: the Twilio stub's received bodies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rapidresponse.delivery import outbox, sealing
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Status
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


def test_a_lost_answer_to_a_sealed_message_is_found_at_twilio_not_resent(twilio, db, settings):
    """Twilio kept the body (no ContentRetention) and it holds the code, which the stored
    text does not: the reconcile finds the message without comparing texts."""
    settings.TWILIO_CONTENT_RETENTION = ""
    member = make_member("Ana", "en", phone=PHONE)
    message = sealed_message(member, "482913")
    twilio.drop_next()
    outbox.drain()
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == Status.UNKNOWN
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    outbox.reconcile_unknown()
    outbox.drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    [sent] = twilio.messages_to(PHONE)
    assert sent.body == "your code is 482913."


# --- the console backends (the demo) -------------------------------------------------------


def test_the_console_log_records_the_mark_and_the_terminal_shows_the_code(db, capsys):
    member = make_member("Ana", "en", phone=PHONE)
    message = sealed_message(member, "482913")
    outbox.drain()
    logged = ConsoleMessage.objects.get(delivery__message=message)
    assert logged.text == f"your code is {sealing.MARK}."
    assert capsys.readouterr().out == f"[sms to ***0101, member {member.pk}] your code is 482913.\n"


def test_the_console_backends_print_nothing_else(db, capsys):
    member = make_member("Ana", "en", phone=PHONE)
    outbox.send_to_member(member, "notice", {"en": {"text": "Meeting at 7."}})
    outbox.drain()
    assert ConsoleMessage.objects.get(member=member).text == "Meeting at 7."
    assert capsys.readouterr().out == ""
