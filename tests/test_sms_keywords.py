"""SMS keywords, in English and Spanish, whatever the case and accents: opting out at once
with one confirmation, opting in again, help, language, and a verifier's YES."""

from __future__ import annotations

from typing import Any

import pytest

from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.incidents.models import VerificationRequest
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import BOYLE, make_member
from tests.sms_support import text_hotline
from tests.stubs.twilio_stub import PUBLIC_URL, serve_for

PHONE = "+12135550101"
VERIFIER_PHONE = "+13235550151"
OPT_OUT = ["STOP", "stopall", "Unsubscribe", "CANCEL", "end", "QUIT", "revoke", "OPTOUT",
           "stop.", " Stop! "]
JOIN = {"name": "Ana", "language": "en", "phone": PHONE, "email": "", "channels": ["sms"],
        "label_1": "home", "latitude_1": str(BOYLE[0]), "longitude_1": str(BOYLE[1]),
        "radius_1": "1000", "consent": "yes"}
OPT_OUT_ES = ["ALTO", "parar", "Baja", "NO MAS", "no más", "No Más."]


@pytest.fixture
def twilio(settings: Any) -> Any:
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "sms": 1000}
    yield from serve_for(settings)


def text(client: Any, body: str, sender: str = PHONE) -> str:
    return text_hotline(client, body, sender)


def confirm_alert(client: Any, verifier: Any) -> int:
    r = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "arrests", "agency": "ice"},
                    content_type="application/json")
    incident_id = int(r.json()["incident_id"])
    assert verifier.client.post(f"/verify/{incident_id}/",
                                {"outcome": "confirmed", "send": "1"}).status_code == 302
    return incident_id


@pytest.mark.parametrize("word", OPT_OUT)
def test_english_opt_out_words_stop_everything_at_once(client, zone, twilio, word):
    member = make_member("Ana", "en", phone=PHONE)
    reply = text(client, word)
    member.refresh_from_db()
    assert member.status == Member.Status.OPTED_OUT
    assert "you will get no more messages" in reply


@pytest.mark.parametrize("word", OPT_OUT_ES)
def test_spanish_opt_out_words_stop_everything_with_a_spanish_confirmation(
        client, zone, twilio, word):
    member = make_member("Ana", "en", phone=PHONE)
    reply = text(client, word)
    member.refresh_from_db()
    assert member.status == Member.Status.OPTED_OUT
    assert "ya no recibira mas mensajes" in reply


def test_the_confirmation_is_sent_only_once(client, zone, twilio):
    make_member("Ana", "en", phone=PHONE)
    assert text(client, "STOP")
    assert text(client, "STOP") == ""
    assert text(client, "HELP") == ""


def test_an_opted_out_number_gets_no_alert(client, zone, verifier, twilio, deliver):
    make_member("Ana", "en", phone=PHONE)
    text(client, "STOP")
    confirm_alert(client, verifier)
    deliver()
    assert twilio.messages_to(PHONE) == []


def test_a_message_already_queued_is_not_sent_after_stop(client, zone, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    outbox.send_to_member(member, "notice", {"en": {"subject": "", "text": "Meeting"}})
    text(client, "STOP")
    deliver()
    assert twilio.messages_to(PHONE) == []
    assert Delivery.objects.get(member=member).status == Status.SKIPPED


def test_a_message_claimed_before_stop_is_not_sent(client, zone, twilio):
    member = make_member("Ana", "en", phone=PHONE)
    outbox.send_to_member(member, "notice", {"en": {"subject": "", "text": "Meeting"}})
    batch = outbox.claim_batch()  # a worker has it in hand...
    contacts = {(c.member_id, c.kind): c for c in ContactPoint.objects.filter(member=member)}
    text(client, "STOP")  # ...when she texts STOP
    outbox.send_one(batch[0], contacts)
    assert twilio.messages_to(PHONE) == []


def test_after_stop_not_even_a_sign_up_code_is_texted(client, zone, twilio, deliver):
    make_member("Ana", "en", phone=PHONE)
    text(client, "STOP")
    r = client.post("/join/", JOIN)
    assert r.status_code == 302
    deliver()
    assert twilio.messages_to(PHONE) == []


def test_after_start_a_sign_up_code_is_texted_again(client, zone, twilio, deliver):
    make_member("Ana", "en", phone=PHONE)
    text(client, "STOP")
    text(client, "START")
    r = client.post("/join/", JOIN)
    assert r.status_code == 302
    deliver()
    assert "your code to join alerts" in twilio.messages_to(PHONE)[0].body


def test_a_stranger_who_texts_stop_is_never_messaged(client, zone, dispatcher, twilio, deliver):
    from rapidresponse.channels.sms.models import SmsThread

    text(client, "ICE at the market")  # a conversation starts...
    text(client, "STOP")
    thread = SmsThread.objects.get()
    r = dispatcher.client.post(f"/console/sms/{thread.pk}/reply/", {"text": "Are you safe?"})
    deliver()
    assert r.status_code == 400
    assert "opted out" in r.content.decode()
    assert twilio.messages_to(PHONE) == []


def test_start_subscribes_again(client, zone, verifier, twilio, deliver):
    member = make_member("Ana", "en", phone=PHONE)
    text(client, "STOP")
    reply = text(client, "START")
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.contacts.get(kind="sms").value == PHONE
    assert "you will get alerts again" in reply


def test_alta_subscribes_again_in_spanish(client, zone, twilio):
    make_member("Ana", "en", phone=PHONE)
    text(client, "BAJA")
    reply = text(client, "alta")
    assert "recibira alertas de nuevo" in reply


def test_start_from_a_stranger_points_to_the_sign_up_page(client, zone, twilio):
    reply = text(client, "START")
    assert f"{PUBLIC_URL}/join/" in reply
    assert not Member.objects.exists()


@pytest.mark.parametrize("word", ["HELP", "info", "Help"])
def test_help_gives_the_network_and_the_hotline(client, zone, twilio, settings, word):
    reply = text(client, word)
    assert settings.NETWORK_NAME in reply
    assert settings.HOTLINE_NUMBER in reply


def test_ayuda_answers_in_spanish(client, zone, twilio, settings):
    reply = text(client, "AYUDA")
    assert "Linea de ayuda" in reply
    assert settings.HOTLINE_NUMBER in reply


@pytest.mark.parametrize("word", ["ESPAÑOL", "espanol", "Español"])
def test_espanol_switches_the_member_to_spanish(client, zone, twilio, word):
    member = make_member("Ana", "en", phone=PHONE)
    reply = text(client, word)
    member.refresh_from_db()
    assert member.language == "es"
    assert "espanol" in reply or "español" in reply


def test_english_switches_the_member_to_english(client, zone, twilio):
    member = make_member("Ana", "es", phone=PHONE)
    text(client, "ENGLISH")
    member.refresh_from_db()
    assert member.language == "en"


def test_after_espanol_alerts_come_in_spanish(client, zone, verifier, twilio, deliver):
    make_member("Ana", "en", phone=PHONE)
    text(client, "ESPAÑOL")
    confirm_alert(client, verifier)
    deliver()
    [alert] = twilio.messages_to(PHONE)
    assert alert.body.startswith("VERIFICADO")


def request_verification(client: Any, dispatcher: Any, deliver: Any) -> int:
    r = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "arrests", "agency": "ice"},
                    content_type="application/json")
    incident_id = int(r.json()["incident_id"])
    dispatcher.client.post(f"/console/incidents/{incident_id}/request-verification/")
    deliver()
    return incident_id


@pytest.mark.parametrize("word", ["YES", "yes", "SI", "Sí"])
def test_a_verifier_answers_a_dispatch_request_by_sms(
        client, zone, dispatcher, verifier, twilio, deliver, word):
    incident_id = request_verification(client, dispatcher, deliver)
    [dispatch] = twilio.messages_to(VERIFIER_PHONE)
    assert "Reply YES" in dispatch.body
    reply = text(client, word, sender=VERIFIER_PHONE)
    assert VerificationRequest.objects.get(incident_id=incident_id).accepted_at is not None
    assert f"/verify/{incident_id}/" in reply


def test_the_dispatcher_sees_the_verifier_is_on_the_way(
        client, zone, dispatcher, verifier, twilio, deliver):
    incident_id = request_verification(client, dispatcher, deliver)
    text(client, "YES", sender=VERIFIER_PHONE)
    page = dispatcher.client.get(f"/console/incidents/{incident_id}/").content.decode()
    assert "on the way" in page
    assert "Verifier on the way" in page


def test_yes_with_nothing_pending_says_so(client, zone, twilio):
    make_member("Ana", "en", phone=PHONE)
    assert "Nothing is waiting for your answer" in text(client, "YES")
