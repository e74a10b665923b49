"""Web push delivery (PUSH_BACKEND=webpush) to a push service stand-in on loopback.

The browser is played by a real P-256 key pair and auth secret, as a browser makes them; the
push service is a real HTTP server on 127.0.0.1 that keeps what it is sent. What it receives
is checked the way a browser would: the VAPID signature against our public key, and the
aes128gcm body decrypted with the browser's private key.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from rapidresponse.alerts.compose import compose
from rapidresponse.channels.push import vapid
from rapidresponse.channels.push.models import PushEndpoint
from rapidresponse.channels.push.subscriptions import (
    Subscription,
    browsers_of,
    describe,
    do_subscribe,
    endpoint_index,
    stored_subscriptions,
    stored_value,
)
from rapidresponse.channels.push.webpush import MAX_PAYLOAD_BYTES
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Status
from rapidresponse.delivery.transport import drill_transport_for, transport_for
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_resolve,
    do_submit_report,
)
from rapidresponse.incidents.queries import facts_of
from rapidresponse.lib import crypto
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import NEAR, make_member, sign_in
from tests.test_members import all_stored_text
from tests.test_signup import confirmed_incident_at

WEBPUSH = "rapidresponse.channels.push.webpush.WebPushBackend"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- a browser and a push service -------------------------------------------------------


@dataclass
class Browser:
    """What a browser keeps for one push subscription: its private key and auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, endpoint: str) -> Subscription:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return Subscription(endpoint=endpoint, p256dh=b64url(public), auth=b64url(self.auth))

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth,
                                 version="aes128gcm")
        return json.loads(plain)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class PushService:
    """A push service on loopback: keeps each request and answers `status`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 201
        self.headers: dict[str, str] = {"Location": "/m/message-1"}
        self.delays: list[float] = []  # seconds to wait before answering, request by request
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                service.received.append(Received(
                    path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length)))
                if service.delays:
                    time.sleep(service.delays.pop(0))
                self.send_response(service.status)
                for name, value in service.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def endpoint(self, name: str = "sub-1") -> str:
        return f"{self.origin}/push/{name}"


def running_push_service() -> Iterator[PushService]:
    service = PushService()
    service.thread.start()
    try:
        yield service
    finally:
        service.server.shutdown()
        service.server.server_close()


@pytest.fixture
def push_service() -> Iterator[PushService]:
    yield from running_push_service()


@pytest.fixture
def other_push_service() -> Iterator[PushService]:
    """A second push service: the member's other browser (a laptop next to the phone)."""
    yield from running_push_service()


@pytest.fixture
def webpush(settings: Any) -> Iterator[vapid.VapidKeys]:
    """PUSH_BACKEND=webpush with a VAPID key made for this test."""
    key = ec.generate_private_key(ec.SECP256R1())
    settings.VAPID_PRIVATE_KEY = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.VAPID_PUBLIC_KEY = ""
    settings.VAPID_SUBJECT = "mailto:alerts@network.example"
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS, "push": WEBPUSH}
    transport_for.cache_clear()
    drill_transport_for.cache_clear()
    yield vapid.keys()
    transport_for.cache_clear()
    drill_transport_for.cache_clear()


def subscribed_member(service: PushService, browser: Browser, *, language: str = "es",
                      phone: str = "+12135550123") -> Member:
    member = make_member("Ana", language, phone=phone, at=NEAR)
    do_subscribe(member, browser.subscription(service.endpoint()))
    return member


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    header, claims, signature = token.split(".")
    return (json.loads(unb64url(header)), json.loads(unb64url(claims)),
            f"{header}.{claims}".encode(), unb64url(signature))


def vapid_header(received: Received) -> dict[str, str]:
    scheme, _, params = received.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    return dict(part.split("=", 1) for part in params.split(","))


# --- the key test: a real payload, encrypted to the browser, decrypted with its key ---------


def test_an_alert_reaches_every_browser_encrypted_for_each_in_the_members_language(
        webpush, push_service, other_push_service, zone, verifier):
    phone, laptop = Browser(), Browser()
    member = subscribed_member(push_service, phone, language="es")
    do_subscribe(member, laptop.subscription(other_push_service.endpoint("laptop")))
    incident = confirmed_incident_at(NEAR, verifier)
    outbox.drain()

    assert len(push_service.received) == 1 and len(other_push_service.received) == 1
    to_phone, to_laptop = push_service.received[0], other_push_service.received[0]
    assert (to_phone.path, to_laptop.path) == ("/push/sub-1", "/push/laptop")
    spanish = compose("alert", facts_of(incident))["es"]
    for browser, request in ((phone, to_phone), (laptop, to_laptop)):
        assert request.headers["content-encoding"] == "aes128gcm"
        shown = browser.decrypt(request.body)
        assert shown["title"] == spanish["subject"]
        assert shown["body"] == spanish["text"]
        assert shown["lang"] == "es"
        assert shown["url"] == "/map/"
        assert shown["tag"] == f"incident-{incident.pk}"
    # Each copy is encrypted for its own browser only.
    with pytest.raises(Exception):  # noqa: B017  (http_ece raises a bare exception type)
        phone.decrypt(to_laptop.body)
    with pytest.raises(Exception):  # noqa: B017
        laptop.decrypt(to_phone.body)
    # Still one delivery for the member's push channel, sent in one attempt.
    delivery = Delivery.objects.get(member=member, channel="push")
    assert delivery.status == Status.SENT and delivery.attempts == 1


def test_the_push_service_can_check_our_vapid_signature(webpush, push_service, zone, verifier):
    subscribed_member(push_service, Browser())
    confirmed_incident_at(NEAR, verifier)
    outbox.drain()

    auth = vapid_header(push_service.received[0])
    assert auth["k"] == webpush.public_key
    header, claims, signed, signature = jwt_parts(auth["t"])
    assert header["alg"] == "ES256"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                          unb64url(webpush.public_key))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    public.verify(der, signed, ec.ECDSA(hashes.SHA256()))  # raises if forged
    assert claims["aud"] == push_service.origin
    assert claims["sub"] == "mailto:alerts@network.example"
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600


def test_a_signature_from_another_key_does_not_verify(webpush, push_service, zone, verifier):
    """The check above is a real check: the same token fails against another public key."""
    subscribed_member(push_service, Browser())
    confirmed_incident_at(NEAR, verifier)
    outbox.drain()
    _header, _claims, signed, signature = jwt_parts(vapid_header(push_service.received[0])["t"])
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    with pytest.raises(InvalidSignature):
        other.verify(der, signed, ec.ECDSA(hashes.SHA256()))


def test_another_browser_cannot_read_the_alert(webpush, push_service, zone, verifier):
    subscribed_member(push_service, Browser())
    confirmed_incident_at(NEAR, verifier)
    outbox.drain()
    with pytest.raises(Exception):  # noqa: B017  (http_ece raises a bare exception type)
        Browser().decrypt(push_service.received[0].body)


def test_alerts_are_urgent_and_live_about_an_hour(webpush, push_service, zone, verifier):
    subscribed_member(push_service, Browser())
    confirmed_incident_at(NEAR, verifier)
    outbox.drain()
    headers = push_service.received[0].headers
    assert headers["urgency"] == "high"
    assert 1800 <= int(headers["ttl"]) <= 7200


def test_a_notice_is_normal_urgency(webpush, push_service, db):
    browser = Browser()
    member = subscribed_member(push_service, browser, language="en")
    outbox.send_to_member(member, "notice", {"en": {"subject": "Meeting", "text": "Tuesday 7pm"},
                                             "es": {"subject": "Reunión", "text": "Martes"}},
                          channels=["push"])
    outbox.drain()
    request = push_service.received[0]
    assert request.headers["urgency"] == "normal"
    assert browser.decrypt(request.body)["body"] == "Tuesday 7pm"


def test_an_all_clear_replaces_the_alert_notification(webpush, push_service, zone, verifier,
                                                       dispatcher):
    browser = Browser()
    subscribed_member(push_service, browser)
    incident = confirmed_incident_at(NEAR, verifier)
    outbox.drain()
    do_resolve(incident, dispatcher.user)
    outbox.drain()
    alert, all_clear = (browser.decrypt(r.body) for r in push_service.received)
    assert all_clear["body"] == compose("all_clear", facts_of(incident))["es"]["text"]
    assert all_clear["tag"] == alert["tag"]
    assert push_service.received[1].headers["topic"] == alert["tag"]


def test_a_long_message_is_cut_to_fit_one_push_message(webpush, push_service, db):
    browser = Browser()
    member = subscribed_member(push_service, browser, language="en")
    long_text = "Meeting at the library. " * 400
    outbox.send_to_member(member, "notice", {"en": {"subject": "Notice", "text": long_text}},
                          channels=["push"])
    outbox.drain()
    body = push_service.received[0].body
    assert len(body) <= 4096
    shown = browser.decrypt(body)
    assert long_text.startswith(shown["body"][:-1]) and shown["body"].endswith("…")
    assert len(json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()
               ) <= MAX_PAYLOAD_BYTES


def test_a_drill_never_reaches_the_push_service(webpush, push_service, zone, verifier):
    subscribed_member(push_service, Browser())
    report = do_submit_report(build_report_input(
        {"latitude": NEAR[0], "longitude": NEAR[1], "activity": "arrests", "agency": "ice",
         "is_drill": True}), source="web")
    do_record_verification(report.incident, verifier.user, "confirmed")
    outbox.drain()
    assert push_service.received == []
    assert Delivery.objects.filter(channel="push", status=Status.SENT).exists()


# --- what the push service answers ------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_disables_the_contact_point(webpush, push_service, db, status):
    member = subscribed_member(push_service, Browser(), language="en")
    push_service.status = status
    outbox.send_to_member(member, "notice", {"en": {"text": "hello"}}, channels=["push"])
    outbox.drain()
    contact = member.contacts.get(kind="push")
    assert contact.disabled_at is not None
    assert str(status) in contact.disabled_reason
    assert Delivery.objects.get(member=member, channel="push").status == Status.FAILED


def test_a_gone_subscription_is_not_tried_again(webpush, push_service, db):
    member = subscribed_member(push_service, Browser(), language="en")
    push_service.status = 410
    outbox.send_to_member(member, "notice", {"en": {"text": "one"}}, channels=["push"])
    outbox.drain()
    outbox.send_to_member(member, "notice", {"en": {"text": "two"}})
    outbox.drain()
    assert len(push_service.received) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_push_service_means_try_again_later(webpush, push_service, db, status):
    member = subscribed_member(push_service, Browser(), language="en")
    push_service.status = status
    push_service.headers = {"Retry-After": "120"}
    outbox.send_to_member(member, "notice", {"en": {"text": "hello"}}, channels=["push"])
    outbox.drain()
    delivery = Delivery.objects.get(member=member, channel="push")
    assert delivery.status == Status.QUEUED and delivery.attempts == 1
    assert member.contacts.get(kind="push").disabled_at is None


def test_errors_kept_in_the_database_do_not_hold_the_endpoint(webpush, push_service, db):
    member = subscribed_member(push_service, Browser(), language="en")
    push_service.status = 410
    outbox.send_to_member(member, "notice", {"en": {"text": "hello"}}, channels=["push"])
    outbox.drain()
    assert "/push/sub-1" not in all_stored_text()


def test_an_unreachable_push_service_is_retried(webpush, db):
    member = make_member("Ana", "en", phone="+12135550123")
    # Nothing listens on port 9 of loopback (discard): the connection is refused.
    do_subscribe(member, Browser().subscription("http://127.0.0.1:9/push/x"))
    outbox.send_to_member(member, "notice", {"en": {"text": "hello"}}, channels=["push"])
    outbox.drain()
    delivery = Delivery.objects.get(member=member, channel="push")
    assert delivery.status == Status.QUEUED
    assert "127.0.0.1:9/push" not in delivery.error


def test_a_send_whose_answer_was_lost_is_sent_again_as_the_same_notification(
        webpush, push_service, db, settings):
    browser = Browser()
    member = subscribed_member(push_service, browser, language="en")
    settings.OUTBOUND_HTTP_TIMEOUT = 0.5
    push_service.delays = [3.0]  # the first answer comes too late: its outcome is unknown
    outbox.send_to_member(member, "notice", {"en": {"text": "hello"}}, channels=["push"])
    outbox.drain()
    delivery = Delivery.objects.get(member=member, channel="push")
    assert delivery.status == Status.UNKNOWN
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    outbox.reconcile_unknown()
    outbox.drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    first, second = (browser.decrypt(r.body) for r in push_service.received)
    assert first == second  # same tag: the phone replaces the first with the second


# --- several browsers: what each push service answers -----------------------------------


def two_browsers(service: PushService, other: PushService) -> tuple[Member, Browser, Browser]:
    phone, laptop = Browser(), Browser()
    member = subscribed_member(service, phone, language="en")
    do_subscribe(member, laptop.subscription(other.endpoint("laptop")))
    return member, phone, laptop


def notice_to(member: Member, text: str) -> None:
    outbox.send_to_member(member, "notice", {"en": {"text": text}}, channels=["push"])
    outbox.drain()


def endpoints_of(member: Member) -> list[str]:
    return [b.endpoint for b in browsers_of(member.contacts.get(kind="push"))]


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_browser_is_removed_and_the_other_still_gets_the_next_alert(
        webpush, push_service, other_push_service, zone, verifier, status):
    member, phone, laptop = two_browsers(push_service, other_push_service)
    push_service.status = status
    notice_to(member, "one")

    assert laptop.decrypt(other_push_service.received[0].body)["body"] == "one"
    assert Delivery.objects.get(member=member, channel="push").status == Status.SENT
    contact = member.contacts.get(kind="push")
    assert contact.disabled_at is None
    assert endpoints_of(member) == [other_push_service.endpoint("laptop")]
    assert list(PushEndpoint.objects.filter(contact=contact).values_list(
        "endpoint_index", flat=True)) == [endpoint_index(other_push_service.endpoint("laptop"))]

    push_service.status = 201
    incident = confirmed_incident_at(NEAR, verifier)
    outbox.drain()
    assert len(push_service.received) == 1  # the gone phone is not tried again
    assert len(other_push_service.received) == 2
    english = compose("alert", facts_of(incident))["en"]["text"]
    assert laptop.decrypt(other_push_service.received[1].body)["body"] == english
    assert Delivery.objects.get(member=member, channel="push",
                                message__alert__incident=incident).status == Status.SENT


def test_when_every_browser_is_gone_the_message_goes_to_the_next_channel(
        webpush, push_service, other_push_service, db):
    member, _phone, _laptop = two_browsers(push_service, other_push_service)
    push_service.status = other_push_service.status = 410
    notice_to(member, "meeting tonight")

    push = Delivery.objects.get(member=member, channel="push")
    assert push.status == Status.FAILED and "410" in push.error
    contact = member.contacts.get(kind="push")
    assert contact.disabled_at is not None and "no browser" in contact.disabled_reason
    assert browsers_of(contact) == [] and not PushEndpoint.objects.exists()
    sms = Delivery.objects.get(member=member, channel="sms")
    assert sms.status == Status.SENT
    assert ConsoleMessage.objects.get(delivery=sms).text == "meeting tonight"


def test_a_busy_push_service_while_the_other_browser_took_it_sends_nothing_twice(
        webpush, push_service, other_push_service, db):
    member, _phone, laptop = two_browsers(push_service, other_push_service)
    push_service.status = 503
    notice_to(member, "one")

    delivery = Delivery.objects.get(member=member, channel="push")
    assert delivery.status == Status.SENT
    assert delivery.provider_id.startswith("webpush-1of2-")
    Delivery.objects.update(next_attempt_at=timezone.now())
    outbox.reconcile_unknown()
    outbox.drain()
    # The laptop showed it once; the busy phone's service is not asked again for it.
    assert [laptop.decrypt(r.body)["body"] for r in other_push_service.received] == ["one"]
    assert len(push_service.received) == 1
    # A passing error does not unsubscribe the phone: it gets the next message.
    push_service.status = 201
    notice_to(member, "two")
    assert len(push_service.received) == 2


def test_an_answer_lost_while_the_other_browser_took_it_is_not_sent_again(
        webpush, push_service, other_push_service, db, settings):
    member, phone, laptop = two_browsers(push_service, other_push_service)
    settings.OUTBOUND_HTTP_TIMEOUT = 0.5
    push_service.delays = [3.0]
    notice_to(member, "one")
    assert Delivery.objects.get(member=member, channel="push").status == Status.SENT
    Delivery.objects.update(next_attempt_at=timezone.now())
    outbox.reconcile_unknown()
    outbox.drain()
    assert len(push_service.received) == 1 and len(other_push_service.received) == 1


def test_when_no_browser_took_it_the_retry_goes_only_to_those_still_subscribed(
        webpush, push_service, other_push_service, db):
    member, phone, laptop = two_browsers(push_service, other_push_service)
    push_service.status, other_push_service.status = 503, 410
    notice_to(member, "one")
    delivery = Delivery.objects.get(member=member, channel="push")
    assert delivery.status == Status.QUEUED
    assert endpoints_of(member) == [push_service.endpoint()]

    push_service.status = 201
    Delivery.objects.update(next_attempt_at=timezone.now())
    outbox.drain()
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert [phone.decrypt(r.body)["body"] for r in push_service.received[1:]] == ["one"]
    assert len(other_push_service.received) == 1


def test_a_browser_subscribed_while_the_only_other_one_went_is_kept(
        webpush, push_service, other_push_service, db):
    """The send knew one browser, which is gone; the member added another meanwhile: the
    channel keeps working and the retry goes to the new browser."""
    member = subscribed_member(push_service, Browser(), language="en")
    push_service.status = 410
    outbox.send_to_member(member, "notice", {"en": {"text": "one"}}, channels=["push"])
    delivery = outbox.claim_batch()[0]
    contacts = {(c.member_id, c.kind): c for c in ContactPoint.objects.all()}
    laptop = Browser()
    do_subscribe(member, laptop.subscription(other_push_service.endpoint("laptop")))
    outbox.send_one(delivery, contacts)

    delivery.refresh_from_db()
    assert delivery.status == Status.QUEUED
    assert member.contacts.get(kind="push").disabled_at is None
    Delivery.objects.update(next_attempt_at=timezone.now())
    outbox.drain()
    assert laptop.decrypt(other_push_service.received[0].body)["body"] == "one"


def test_a_subscription_stored_before_several_browsers_still_gets_alerts(
        webpush, push_service, db):
    browser = Browser()
    member = subscribed_member(push_service, browser, language="en")
    ContactPoint.objects.filter(member=member, kind="push").update(
        value_encrypted=crypto.encrypt(browser.subscription(push_service.endpoint()).as_json()))
    notice_to(member, "hello")
    assert browser.decrypt(push_service.received[0].body)["body"] == "hello"


def test_the_migration_indexes_browsers_stored_before_without_decrypting(db):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "rapidresponse.channels.push.migrations.0002_push_endpoints")
    member = make_member("Ana", "en", phone="+12135550123")
    endpoint = "https://fcm.googleapis.com/fcm/send/old"
    contact = ContactPoint.objects.create(
        member=member, kind="push", blind_index=endpoint_index(endpoint), enabled=True,
        value_encrypted=crypto.encrypt(Browser().subscription(endpoint).as_json()))
    migration.index_existing_browsers(apps, None)
    assert PushEndpoint.objects.get().contact == contact
    # Found again by its endpoint: subscribing the same browser does not add a second one.
    do_subscribe(member, Browser().subscription(endpoint))
    assert len(endpoints_of(member)) == 1 and PushEndpoint.objects.count() == 1


# --- several browsers: the console backend and how they are shown --------------------------


def test_the_console_backend_records_one_message_for_all_the_browsers(
        client, dispatcher, db):
    member = make_member("Ana", "en", phone="+12135550123")
    do_subscribe(member, Browser().subscription("https://fcm.googleapis.com/fcm/send/a"))
    do_subscribe(member, Browser().subscription(
        "https://updates.push.services.mozilla.com/wpush/v2/b"))
    outbox.send_to_member(member, "notice", {"en": {"text": "meeting tonight"}},
                          channels=["push"])
    outbox.drain()
    record = ConsoleMessage.objects.get(channel="push")
    assert record.to_masked == "2 browsers: fcm.googleapis.com, updates.push.services.mozilla.com"
    sign_in(client, dispatcher.user)
    page = client.get(f"/console/phone/{member.pk}/").content.decode()
    assert page.count("meeting tonight") == 1


def test_several_browsers_are_shown_by_their_push_services_only():
    def value(*endpoints: str) -> str:
        return stored_value(Browser().subscription(e) for e in endpoints)

    apple = "https://web.push.apple.com/QOp"
    fcm = "https://fcm.googleapis.com/fcm/send/"
    assert describe(value(apple + "1")) == "web.push.apple.com"
    assert describe(value(fcm + "1", fcm + "2", apple + "3")) == (
        "3 browsers: fcm.googleapis.com, web.push.apple.com")
    assert describe(value()) == ""
    assert describe("not json") == "?"
    long_hosts = [f"https://{'x' * 40}-{i}.example.net/p" for i in range(5)]
    shown = describe(value(*long_hosts))
    assert shown.startswith("5 browsers: ") and len(shown) <= 100 and shown.endswith("…")
    # The endpoints' paths, which address the browser, are never shown.
    assert "QOp" not in describe(value(apple + "1", fcm + "2"))


def test_several_browsers_are_described_in_spanish():
    from django.utils import translation

    value = stored_value(Browser().subscription(f"https://fcm.googleapis.com/fcm/send/{i}")
                         for i in range(2))
    with translation.override("es"):
        assert describe(value) == "2 navegadores: fcm.googleapis.com"
    assert stored_subscriptions(value)[1].endpoint.endswith("/1")


# --- VAPID keys --------------------------------------------------------------------------


def test_vapid_keys_are_made_on_first_use_and_kept(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.VAPID_PRIVATE_KEY = settings.VAPID_PUBLIC_KEY = ""
    first = vapid.keys().public_key
    assert "VAPID_PRIVATE_KEY" in json.loads((tmp_path / "secrets.json").read_text())
    vapid._keys.cache_clear()
    assert vapid.keys().public_key == first
    assert len(unb64url(first)) == 65


def test_vapid_keys_from_the_environment_are_used(settings):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    settings.VAPID_PRIVATE_KEY = pem
    settings.VAPID_PUBLIC_KEY = vapid.public_key_of(key)
    assert vapid.keys().public_key == vapid.public_key_of(key)


def test_a_public_key_that_does_not_match_is_refused(settings):
    settings.VAPID_PRIVATE_KEY = vapid.b64url(os.urandom(31) + b"\x01")
    settings.VAPID_PUBLIC_KEY = vapid.public_key_of(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ImproperlyConfigured, match="does not belong"):
        vapid.keys()


def test_production_without_vapid_keys_offers_no_push(settings):
    settings.PRODUCTION = True
    settings.VAPID_PRIVATE_KEY = ""
    assert vapid.public_key_or_none() is None
    with pytest.raises(ImproperlyConfigured, match="VAPID_PRIVATE_KEY must be set"):
        vapid.keys()


def test_production_with_web_push_and_no_key_fails_the_start_up_check(settings):
    settings.PRODUCTION = True
    settings.VAPID_PRIVATE_KEY = ""
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS, "push": WEBPUSH}
    with pytest.raises(SystemCheckError, match="VAPID_PRIVATE_KEY must be set"):
        call_command("check")
