"""A browser's push subscription, kept as a ContactPoint(kind="push").

The value (endpoint and keys, as JSON) is encrypted like every contact point; the blind
index is over the endpoint, so the same browser is found again without decrypting anything.
A member has one push contact point: subscribing another browser replaces the first.
"""

from __future__ import annotations

import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.channels.push.vapid import b64url, b64url_decode
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.models import Channel, ContactPoint, Member

MAX_ENDPOINT_LENGTH = 2048
P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str  # base64url, no padding
    auth: str

    def as_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Subscription:
        """A stored subscription. Raises ValueError when it is not one."""
        try:
            data = json.loads(text)
            return cls(endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"],
                       auth=data["keys"]["auth"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("not a push subscription") from exc


def endpoint_index(endpoint: str) -> str:
    return crypto.blind_index(Channel.PUSH, endpoint)


def _loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint_error(endpoint: str) -> str | None:
    if not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH:
        return _("The push endpoint is missing or too long.")
    try:
        url = urlsplit(endpoint)
        host = (url.hostname or "").lower()
        url.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return _("The push endpoint is not a valid address.")
    if not host or url.username is not None or url.password is not None or url.fragment:
        return _("The push endpoint is not a valid address.")
    if url.scheme == "https":
        if settings.PRODUCTION:
            # The server posts to this address: never to one inside the network.
            try:
                if not ipaddress.ip_address(host).is_global:
                    return _("The push endpoint must be a public push service.")
            except ValueError:
                if host == "localhost" or host.endswith(".localhost"):
                    return _("The push endpoint must be a public push service.")
        return None
    if url.scheme == "http" and _loopback(host) and not settings.PRODUCTION:
        return None  # a push service stand-in on this machine (tests, development)
    return _("The push endpoint must be an https address.")


def _key(raw: Any, size: int) -> bytes | None:
    if not isinstance(raw, str) or not _B64URL.match(raw.strip()):
        return None
    try:
        value = b64url_decode(raw)
    except (binascii.Error, ValueError):
        return None
    return value if len(value) == size else None


def parse_subscription(data: Any) -> Subscription:
    """Validate what the browser's PushSubscription.toJSON() gave. Raises InvalidInput."""
    if not isinstance(data, dict):
        raise InvalidInput({"subscription": _("This is not a push subscription.")})
    errors: dict[str, str] = {}
    endpoint = data.get("endpoint")
    endpoint = endpoint.strip() if isinstance(endpoint, str) else ""
    if message := _endpoint_error(endpoint):
        errors["endpoint"] = message
    raw_keys = data.get("keys")
    keys: dict[str, Any] = raw_keys if isinstance(raw_keys, dict) else {}
    p256dh = _key(keys.get("p256dh"), P256DH_BYTES)
    if p256dh is not None:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
        except ValueError:
            p256dh = None
    if p256dh is None:
        errors["p256dh"] = _("The browser's push key (p256dh) must be a P-256 public key "
                             "of %(n)s bytes.") % {"n": P256DH_BYTES}
    auth = _key(keys.get("auth"), AUTH_BYTES)
    if auth is None:
        errors["auth"] = _("The browser's push secret (auth) must be %(n)s bytes.") % {
            "n": AUTH_BYTES}
    if errors:
        raise InvalidInput(errors)
    assert p256dh is not None and auth is not None
    return Subscription(endpoint=endpoint, p256dh=b64url(p256dh), auth=b64url(auth))


@transaction.atomic
def do_subscribe(member: Member, subscription: Subscription) -> ContactPoint:
    """Store this browser as the member's push contact point, enabled and confirmed (the
    browser itself handed over the subscription)."""
    index = endpoint_index(subscription.endpoint)
    # The same browser used by someone else before: it now belongs to this member.
    ContactPoint.objects.filter(kind=Channel.PUSH, blind_index=index).exclude(
        member=member).delete()
    contact, _created = ContactPoint.objects.update_or_create(
        member=member, kind=Channel.PUSH,
        defaults={"value_encrypted": crypto.encrypt(subscription.as_json()),
                  "blind_index": index, "enabled": True, "verified_at": timezone.now(),
                  "disabled_at": None, "disabled_reason": ""})
    return contact


@transaction.atomic
def do_unsubscribe(member: Member, endpoint: str | None = None) -> int:
    """Remove the member's push contact point (only if it is this endpoint's, when given)."""
    found = ContactPoint.objects.filter(member=member, kind=Channel.PUSH)
    if endpoint is not None:
        found = found.filter(blind_index=endpoint_index(endpoint.strip()))
    return found.delete()[1].get(ContactPoint._meta.label, 0)
