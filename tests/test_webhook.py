"""Partner systems receive alerts as signed JSON, checked by a partner server on loopback that
follows only what the README tells partners."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from rapidresponse.alerts.models import Alert
from rapidresponse.channels.webhook import partners
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage, Delivery
from rapidresponse.delivery.transport import drill_transport_for, transport_for
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_send_correction,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import BOYLE, make_staff
from tests.engine_support import PartnerStub, Reply, partner_verify, running

SECRET = "partner-secret-0123456789abcdef"


@pytest.fixture
def partner_server(settings: Any) -> Iterator[PartnerStub]:
    with running(PartnerStub(SECRET)) as stub:
        settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                     "webhook": settings.CHANNEL_BACKEND_NAMES["webhook"]["http"]}
        settings.TOKEN_BUCKET_PREFIX = f"test:{uuid.uuid4().hex}:"
        settings.OUTBOUND_HTTP_TIMEOUT = 0.5
        transport_for.cache_clear()
        yield stub
    transport_for.cache_clear()
    drill_transport_for.cache_clear()


def add_partner(url: str, *args: str) -> str:
    out = StringIO()
    call_command("add_partner", "Legal Aid Hotline", "--url", url, *args, stdout=out)
    return out.getvalue()


def confirmed_alert(*, drill: bool = False) -> Alert:
    incident = do_submit_report(build_report_input(
        {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests",
         "is_drill": "on" if drill else ""}), source="web").incident
    if drill:
        Incident.objects.filter(pk=incident.pk).update(is_drill=True)
        incident.refresh_from_db()
    checker = make_staff(f"checker{uuid.uuid4().hex[:6]}", "verifier").user
    do_record_verification(incident, checker, "confirmed")
    return Alert.objects.filter(incident=incident, kind="alert").get()


def partner_delivery(alert: Alert) -> Delivery:
    return Delivery.objects.get(message=alert.message, channel="webhook")


def test_a_partner_receives_the_alert_signed(zone, partner_server, deliver, settings):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    alert = confirmed_alert()
    deliver()
    assert partner_server.refused == []
    (received,) = partner_server.accepted.values()
    assert received["kind"] == "alert"
    body = received["alert"]
    assert body["id"] == alert.pk
    assert body["kind"] == "alert"
    assert body["incident"] == alert.incident_id
    assert body["cap_url"] == f"{settings.PUBLIC_URL}/alerts/{alert.pk}.cap"
    assert body["area"]["name"] == alert.area_name
    assert body["area"]["radius_m"] == alert.radius_m
    assert set(body["texts"]) == {"en", "es"}
    assert body["texts"]["es"]["text"].startswith("VERIFICAD")
    assert partner_delivery(alert).status == "sent"


def test_the_signature_covers_the_timestamp_and_the_body(zone, partner_server, deliver):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    confirmed_alert()
    deliver()
    (request,) = partner_server.requests
    assert partner_verify(SECRET, request.headers, request.body) is None
    tampered = request.body.replace(b'"alert"', b'"all_clear"', 1)
    assert partner_verify(SECRET, request.headers, tampered) == "bad signature"
    later = {**request.headers, "x-rapidresponse-timestamp": str(int(time.time()) + 5)}
    assert partner_verify(SECRET, later, request.body) == "bad signature"
    assert partner_verify("another-secret-0123456789", request.headers,
                          request.body) == "bad signature"


def test_a_replayed_request_is_detected_by_its_old_timestamp(zone, partner_server, deliver):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    confirmed_alert()
    deliver()
    (request,) = partner_server.requests
    sent_at = int(request.headers["x-rapidresponse-timestamp"])
    # The same bytes played back ten minutes later: genuine signature, refused as stale.
    assert partner_verify(SECRET, request.headers, request.body, now=sent_at + 600) == "stale"
    assert partner_verify(SECRET, request.headers, request.body, now=sent_at + 60) is None


def test_a_partner_error_is_retried_with_the_same_delivery_id(zone, partner_server, deliver):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    partner_server.script = [Reply(503, {"error": "maintenance"})]
    alert = confirmed_alert()
    deliver()
    delivery = partner_delivery(alert)
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    ids = {r.headers["x-rapidresponse-delivery"] for r in partner_server.requests}
    assert ids == {str(delivery.pk)}
    assert len(partner_server.requests) == 2


def test_a_gone_endpoint_is_permanent(zone, partner_server, deliver):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    partner_server.script = [Reply(410, {"error": "retired"})]
    alert = confirmed_alert()
    deliver()
    assert partner_delivery(alert).status == "failed"
    assert ContactPoint.objects.get(kind="webhook").disabled_at is not None
    do_send_correction(alert.incident, None)
    deliver()
    assert len(partner_server.requests) == 1  # nothing more to a retired endpoint


def test_a_partner_that_refuses_our_signature_gives_up_after_the_last_attempt(
        zone, partner_server, deliver, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 2
    add_partner(partner_server.url + "/hooks/rapid", "--secret", "not-the-partners-secret-00")
    alert = confirmed_alert()
    for _ in range(2):
        Delivery.objects.filter(message=alert.message).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1))
        deliver()
    delivery = partner_delivery(alert)
    assert (delivery.status, delivery.attempts) == ("dead", 2)
    assert delivery.error == "partner endpoint answered 401"
    assert partner_server.refused == ["bad signature", "bad signature"]


def test_a_timed_out_webhook_is_sent_again_with_the_same_id(zone, partner_server, deliver):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    partner_server.script = [Reply(200, {"ok": True}, delay=1.5)]
    alert = confirmed_alert()
    deliver()
    delivery = partner_delivery(alert)
    assert delivery.status == "unknown"
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1))
    outbox.reconcile_unknown()
    deliver()
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    ids = [r.headers["x-rapidresponse-delivery"] for r in partner_server.requests]
    assert ids == [str(delivery.pk), str(delivery.pk)]
    # The partner keeps it once, by the delivery id the README tells it to drop repeats by.
    assert list(partner_server.accepted) == [str(delivery.pk)]


def test_a_correction_reaches_the_partner_and_points_at_the_original(
        zone, partner_server, deliver):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    alert = confirmed_alert()
    deliver()
    do_send_correction(alert.incident, None)
    deliver()
    kinds = {body["alert"]["kind"]: body["alert"] for body in partner_server.accepted.values()}
    assert set(kinds) == {"alert", "correction"}
    assert kinds["correction"]["original"] == alert.pk


def test_a_drill_never_reaches_a_partner(zone, partner_server, deliver):
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET)
    alert = confirmed_alert(drill=True)
    assert alert.is_drill
    deliver()
    assert partner_server.requests == []
    assert ConsoleMessage.objects.get(delivery=partner_delivery(alert)).channel == "webhook"


def test_a_partner_outside_the_alert_area_gets_nothing(zone, partner_server, deliver):
    from rapidresponse.lib import geo
    from rapidresponse.zones.models import Zone, ZoneCell

    far = Zone.objects.create(name="Van Nuys")
    ZoneCell.objects.create(zone=far, cell=geo.cell_for(34.1867, -118.4490, 8))
    add_partner(partner_server.url + "/hooks/rapid", "--secret", SECRET, "--zone", "Van Nuys")
    alert = confirmed_alert()
    deliver()
    assert not Delivery.objects.filter(message=alert.message, channel="webhook").exists()
    assert partner_server.requests == []


# --- adding a partner ------------------------------------------------------------------------


def test_adding_a_partner_stores_the_endpoint_encrypted(zone):
    out = add_partner("https://partner.example.org/hooks/rapid")
    secret = out.strip().rsplit(" ", 1)[-1]
    assert len(secret) >= 32
    partner = Member.objects.get(name="Legal Aid Hotline")
    assert (partner.source, partner.status) == ("staff", "active")
    contact = ContactPoint.objects.get(member=partner)
    assert contact.kind == "webhook" and contact.verified_at is not None
    assert "partner.example.org" not in contact.value_encrypted
    assert secret not in contact.value_encrypted
    assert json.loads(contact.value) == {"url": "https://partner.example.org/hooks/rapid",
                                         "secret": secret}


@pytest.mark.parametrize("url", [
    "http://partner.example.org/hooks",  # plain http to another machine
    "ftp://partner.example.org/hooks",
    "https://user:pass@partner.example.org/hooks",
    "https:///hooks",
    "not a url",
])
def test_a_partner_address_must_be_https(zone, url):
    with pytest.raises(CommandError):
        add_partner(url)
    assert not Member.objects.filter(name="Legal Aid Hotline").exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "http://localhost/hooks",
                                 "http://[::1]:9000/hooks"])
def test_plain_http_is_allowed_to_this_machine(zone, url):
    assert partners.validate_url(url) == url


def test_the_same_endpoint_cannot_be_added_twice(zone):
    add_partner("https://partner.example.org/hooks/rapid")
    with pytest.raises(CommandError, match="already"):
        add_partner("https://partner.example.org/hooks/rapid")


def test_a_short_secret_is_refused(zone):
    with pytest.raises(CommandError, match="16"):
        add_partner("https://partner.example.org/hooks/rapid", "--secret", "short")


def test_an_unknown_zone_is_refused(zone):
    with pytest.raises(CommandError, match="no zone"):
        add_partner("https://partner.example.org/hooks/rapid", "--zone", "Atlantis")
