"""Questions asked by SMS go to the app that asked, the most recent first; the apps'
commands; and what stays first whatever was asked (STOP)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rapidresponse.channels.sms import inbound, questions
from rapidresponse.channels.sms.models import Question
from rapidresponse.incidents.models import VerificationRequest
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.members.models import Member
from tests import test_sms_keywords
from tests.conftest import make_member
from tests.test_sms_keywords import PHONE, VERIFIER_PHONE, request_verification, text

twilio = test_sms_keywords.twilio  # the same Twilio stub fixture


def two_requests(client: Any, dispatcher: Any, deliver: Any) -> tuple[int, int]:
    first = request_verification(client, dispatcher, deliver)
    r = client.post("/api/v1/reports", {"latitude": 34.0617, "longitude": -118.2760,
                                        "activity": "patrol", "agency": "ice"},
                    content_type="application/json")
    second = int(r.json()["incident_id"])
    assert second != first
    dispatcher.client.post(f"/console/incidents/{second}/request-verification/")
    deliver()
    return first, second


def test_yes_answers_the_question_asked_last(client, zone, dispatcher, verifier, twilio,
                                             deliver):
    first, second = two_requests(client, dispatcher, deliver)
    reply = text(client, "YES", sender=VERIFIER_PHONE)
    assert f"#{second}" in reply
    assert VerificationRequest.objects.get(incident_id=second).accepted_at is not None
    assert VerificationRequest.objects.get(incident_id=first).accepted_at is None
    # A second YES answers the one still open.
    assert f"#{first}" in text(client, "YES", sender=VERIFIER_PHONE)


def test_an_expired_question_waits_for_no_answer(client, zone, dispatcher, verifier, twilio,
                                                 deliver):
    incident_id = request_verification(client, dispatcher, deliver)
    Question.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert "Nothing is waiting for your answer" in text(client, "YES", sender=VERIFIER_PHONE)
    assert VerificationRequest.objects.get(incident_id=incident_id).accepted_at is None


def test_stop_works_whatever_was_asked(client, zone, dispatcher, verifier, twilio, deliver):
    request_verification(client, dispatcher, deliver)
    text(client, "STOP", sender=VERIFIER_PHONE)
    assert verifier.staff.member.__class__.objects.get(
        pk=verifier.staff.member_id).status == Member.Status.OPTED_OUT


def test_a_text_that_answers_no_question_goes_to_the_conversation(
        client, zone, dispatcher, verifier, twilio, deliver):
    request_verification(client, dispatcher, deliver)
    reply = text(client, "there are agents at the corner store", sender=VERIFIER_PHONE)
    assert "Where is this happening" in reply  # the SMS report conversation asks where
    assert Question.objects.get().answered_at is None


def test_a_question_is_only_recorded_for_someone_with_sms(db):
    member = make_member("Mail only", "en", email="mail@example.org")
    questions.topic("test-topic")(lambda *_args: "ok")
    assert questions.ask_member(member, "test-topic", 1) is None
    with pytest.raises(KeyError):
        questions.ask_member(member, "no-such-topic", 1)


def test_an_app_command_gets_its_word(client, zone, twilio, monkeypatch):
    make_member("Ana", "es", phone=PHONE)
    monkeypatch.setattr(inbound, "_commands", dict(inbound._commands))
    inbound.command("plan", "plán")(lambda sender, language, _text: f"plan for {language}")
    assert text(client, "PLAN") == "plan for es"
    assert text(client, "Plán") == "plan for es"
    assert "Donde esta pasando" in text(client, "plan de la cuadra mañana")


def test_answered_questions_are_deleted_a_day_later(client, zone, dispatcher, verifier,
                                                    twilio, deliver):
    request_verification(client, dispatcher, deliver)
    text(client, "YES", sender=VERIFIER_PHONE)
    assert Question.objects.count() == 1
    enforce_retention(now=timezone.now() + timedelta(days=2))
    assert not Question.objects.exists()
