"""Texts to the hotline (POST /hooks/twilio/sms): only Twilio's signed requests are taken,
a retried webhook is processed once, replies are TwiML, and no number is kept in clear."""

from __future__ import annotations

import io
import secrets
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.core.management import call_command

from rapidresponse.channels.sms.models import InboundSms, SmsThread, SmsThreadMessage
from tests.stubs.twilio_stub import PUBLIC_URL, serve_for, signature

pytestmark = pytest.mark.django_db

SENDER = "+12135550177"
PATH = "/hooks/twilio/sms"


@pytest.fixture
def twilio(settings: Any) -> Any:
    yield from serve_for(settings)


def params_for(body: str, sender: str = SENDER, sid: str = "") -> dict[str, str]:
    return {"MessageSid": sid or "SM" + secrets.token_hex(16), "SmsSid": "", "Body": body,
            "From": sender, "To": "+12135550100", "AccountSid": "AC" + "0" * 31 + "1",
            "NumMedia": "0"}


def post(client: Any, params: dict[str, str], *, url: str = PUBLIC_URL + PATH,
         token: str | None = None, **headers: Any) -> Any:
    sig = signature(url, params, token) if token is not None else signature(url, params)
    return client.post(PATH, urlencode(params), content_type="application/x-www-form-urlencoded",
                       HTTP_X_TWILIO_SIGNATURE=sig, **headers)


def reply_of(response: Any) -> str:
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    return " ".join(m.text or "" for m in root.findall("Message"))


def test_a_text_is_answered_with_twiml(client, twilio):
    r = post(client, params_for("ICE agents on my street"))
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/xml")
    assert "Where is this happening?" in reply_of(r)


def test_a_request_without_signature_is_refused_and_nothing_is_stored(client, twilio):
    r = client.post(PATH, urlencode(params_for("hello")),
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code == 403
    assert not InboundSms.objects.exists() and not SmsThread.objects.exists()


def test_a_wrong_signature_is_refused_and_nothing_is_stored(client, twilio):
    r = post(client, params_for("hello"), token="not-the-auth-token")
    assert r.status_code == 403
    assert not InboundSms.objects.exists() and not SmsThread.objects.exists()


def test_a_signature_for_another_address_is_refused(client, twilio):
    r = post(client, params_for("hello"), url="http://attacker.example" + PATH)
    assert r.status_code == 403


def test_without_twilio_settings_every_webhook_is_refused(client, twilio, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    r = post(client, params_for("hello"))
    assert r.status_code == 403
    assert not InboundSms.objects.exists()


def test_the_proxy_headers_give_the_public_address(client, twilio):
    url = "https://sms.example.net" + PATH
    r = post(client, params_for("hello"), url=url, HTTP_X_FORWARDED_PROTO="https",
             HTTP_X_FORWARDED_HOST="sms.example.net")
    assert r.status_code == 200


def test_a_shared_key_signature_is_checked_with_the_shared_key(client, twilio, settings):
    from twilio.request_validator import RequestValidator

    settings.TWILIO_WEBHOOK_SHARED_KEY = "shared-secret"
    params = params_for("hello")
    sig = RequestValidator("shared-secret").compute_signature(PUBLIC_URL + PATH, params,
                                                              "HMAC_SHA256")
    r = client.post(PATH, urlencode(params), content_type="application/x-www-form-urlencoded",
                    HTTP_X_TWILIO_SIGNATURE=sig,
                    HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS="key=KS1,algorithm=HMAC_SHA256")
    assert r.status_code == 200


def test_a_shared_key_signature_without_the_secret_is_refused(client, twilio):
    from twilio.request_validator import RequestValidator

    params = params_for("hello")
    sig = RequestValidator("shared-secret").compute_signature(PUBLIC_URL + PATH, params,
                                                              "HMAC_SHA256")
    r = client.post(PATH, urlencode(params), content_type="application/x-www-form-urlencoded",
                    HTTP_X_TWILIO_SIGNATURE=sig,
                    HTTP_X_TWILIO_WEBHOOKS_SIGNATURE_SETTINGS="key=KS1,algorithm=HMAC_SHA256")
    assert r.status_code == 403


def test_a_retried_webhook_is_processed_once(client, twilio):
    params = params_for("ICE agents on my street")
    first = post(client, params)
    again = post(client, params)
    assert again.status_code == 200
    assert reply_of(again) == reply_of(first)
    assert SmsThreadMessage.objects.filter(direction="in").count() == 1
    assert SmsThread.objects.get().state == "where"


def test_a_webhook_without_a_sender_is_a_clear_400(client, twilio):
    params = params_for("hello")
    params["From"] = ""
    r = post(client, params)
    assert r.status_code == 400
    assert b"From" in r.content


def test_the_senders_number_is_nowhere_in_the_database_in_clear(client, zone, twilio):
    post(client, params_for("Hay agentes de ICE aqui"))
    post(client, params_for("Boyle Heights, 1st y Soto"))
    post(client, params_for("Unos 5 agentes y 2 camionetas"))
    post(client, params_for("STOP"))
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert SENDER[2:] not in dump.getvalue()
    assert SmsThread.objects.exists()
