"""Partner systems that receive alerts as signed JSON (WEBHOOK_BACKEND=http).

A partner is a Member (source "staff") with one ContactPoint of kind "webhook" whose value,
encrypted like every contact point, is JSON {"url": ..., "secret": ...}, and watch areas
covering the zones it serves. Coordinators add one with `manage.py add_partner`."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.delivery.models import Delivery, Message
from rapidresponse.lib import crypto
from rapidresponse.members.contacts import index_for
from rapidresponse.members.models import Channel, ContactPoint, Member, WatchArea
from rapidresponse.zones.models import Zone

MAX_URL_LENGTH = 2000
TIMESTAMP_HEADER = "X-RapidResponse-Timestamp"
SIGNATURE_HEADER = "X-RapidResponse-Signature"
DELIVERY_HEADER = "X-RapidResponse-Delivery"


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: str


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_url(raw: str) -> str:
    """A partner endpoint: https, or plain http only to this machine (tests, a local relay)."""
    url = raw.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise ValidationError(_("Enter the partner's web address."))
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError(_("The address must start with https:// and name a host."))
    if parts.username or parts.password:
        raise ValidationError(_("The address must not contain a user name or password."))
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValidationError(_("The address must use https:// (plain http only to this "
                                "machine)."))
    return url


def encode(endpoint: Endpoint) -> str:
    return json.dumps({"url": endpoint.url, "secret": endpoint.secret})


def decode(value: str) -> Endpoint:
    data = json.loads(value)
    return Endpoint(url=str(data["url"]), secret=str(data["secret"]))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256(secret, "{timestamp}.{body}"): what partners check (see README)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                    hashlib.sha256).hexdigest()


#: What other apps add to a partner's payload: each function takes the message and returns
#: (key, section) for a message it knows, else None. Alerts add "alert" (alerts/partners.py,
#: registered when the app is ready); the payload always has "alert", null for others.
PayloadSection = Callable[[Message], "tuple[str, dict[str, Any]] | None"]
_sections: list[PayloadSection] = []


def payload_section(fn: PayloadSection) -> PayloadSection:
    """Register a section of the partner payload (a decorator)."""
    _sections.append(fn)
    return fn


def payload(delivery_id: int) -> dict[str, Any]:
    """What a partner receives: the message in every language and what the apps that sent
    it add (an alert, with a link to its CAP document). Nothing about any member."""
    delivery = Delivery.objects.select_related("message").get(pk=delivery_id)
    message = delivery.message
    data: dict[str, Any] = {
        "delivery": delivery.pk,
        "kind": message.kind,
        "drill": message.is_drill,
        "network": settings.NETWORK_NAME,
        "created_at": message.created_at.isoformat(),
        "texts": message.bodies,
        "alert": None,
    }
    for section in _sections:
        found = section(message)
        if found is not None:
            data[found[0]] = found[1]
    return data


def body_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@transaction.atomic
def do_add_partner(name: str, url: str, *, secret: str = "", zones: list[Zone] | None = None,
                   language: str = "en") -> tuple[Member, str]:
    """A partner endpoint for the given zones (all zones when none are named). Returns the
    partner and its signing secret (generated when not given; shown once, stored encrypted)."""
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the partner a name."))
    url = validate_url(url)
    secret = secret or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise ValidationError(_("The secret must be at least 16 characters long."))
    blind = index_for(Channel.WEBHOOK, url)
    if ContactPoint.objects.filter(kind=Channel.WEBHOOK, blind_index=blind).exists():
        raise ValidationError(_("A partner already uses this address."))
    chosen = zones if zones else list(Zone.objects.all())
    cells = sorted({c for z in chosen for c in z.cells.values_list("cell", flat=True)})
    if not cells:
        raise ValidationError(_("There is no zone to send alerts for: add a zone first."))
    now = timezone.now()
    partner = Member.objects.create(name=name[:100], language=language,
                                    status=Member.Status.ACTIVE,
                                    source=Member.Source.STAFF, consent_at=now)
    ContactPoint.objects.create(
        member=partner, kind=Channel.WEBHOOK, blind_index=blind, enabled=True, verified_at=now,
        value_encrypted=crypto.encrypt(encode(Endpoint(url=url, secret=secret))))
    # One watch area per zone cell (no rings): the alert fan-out finds partners like members.
    WatchArea.objects.bulk_create([
        WatchArea(member=partner, label="other", cell=cell, rings=0, radius_m=0)
        for cell in cells])
    return partner, secret
