"""A member's browsers for push alerts, kept in one ContactPoint(kind="push").

A member has one push contact point (the outbox sends one delivery per member and channel)
and up to MAX_BROWSERS browsers in it. Its value, encrypted like every contact point, is a
JSON list of the browsers' subscriptions (endpoint and keys), least recently subscribed
first; the web push backend sends each message to all of them. Each browser also has a
PushEndpoint row holding the blind index of its endpoint, so the same browser is found
again without decrypting anything. Subscribing a browser already there only moves it to
the end; subscribing one more than MAX_BROWSERS drops the least recently subscribed one.
The contact point's own blind index is derived from the member, not from a browser.
"""

from __future__ import annotations

import binascii
import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapidresponse.channels.push.models import PushEndpoint
from rapidresponse.channels.push.vapid import b64url, b64url_decode
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.models import Channel, ContactPoint, Member

#: Browsers one member can get push alerts in; one more replaces the least recently
#: subscribed (the settings page says so).
MAX_BROWSERS = 5
MAX_ENDPOINT_LENGTH = 2048
#: What `masked` may be: it is kept in the message log (ConsoleMessage.to_masked).
MAX_DESCRIPTION = 100
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

    @property
    def host(self) -> str:
        """The push service (fcm.googleapis.com, ...): all that is ever shown of it."""
        return urlsplit(self.endpoint).hostname or "?"

    @property
    def fingerprint(self) -> str:
        """What the settings page gives push.js to tell whether *this* browser is one of the
        member's (push.js hashes its own endpoint the same way); it reveals no endpoint."""
        return hashlib.sha256(self.endpoint.encode()).hexdigest()[:32]

    @classmethod
    def from_dict(cls, data: Any) -> Subscription:
        """A stored subscription. Raises ValueError when it is not one."""
        try:
            found = cls(endpoint=data["endpoint"], p256dh=data["keys"]["p256dh"],
                        auth=data["keys"]["auth"])
        except (KeyError, TypeError) as exc:
            raise ValueError("not a push subscription") from exc
        if not all(isinstance(v, str) for v in (found.endpoint, found.p256dh, found.auth)):
            raise ValueError("not a push subscription")
        return found


def stored_subscriptions(value: str) -> list[Subscription]:
    """The browsers a push contact point's (decrypted) value holds, least recently subscribed
    first. Also reads the one-browser value of earlier versions. Raises ValueError."""
    if not value:
        return []
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise ValueError("not a list of push subscriptions") from exc
    return [Subscription.from_dict(item) for item in (data if isinstance(data, list)
                                                       else [data])]


def stored_value(browsers: Iterable[Subscription]) -> str:
    return json.dumps([b.as_dict() for b in browsers], separators=(",", ":"))


def describe(value: str) -> str:
    """A push contact point as staff and the member see it: the push services only, e.g.
    "fcm.googleapis.com" or "2 browsers: fcm.googleapis.com, web.push.apple.com"."""
    try:
        browsers = stored_subscriptions(value)
    except ValueError:
        return "?"
    if len(browsers) <= 1:
        return browsers[0].host[:MAX_DESCRIPTION] if browsers else ""
    services = ", ".join(dict.fromkeys(b.host for b in browsers))
    text = ngettext("%(count)d browser: %(services)s", "%(count)d browsers: %(services)s",
                    len(browsers)) % {"count": len(browsers), "services": services}
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1] + "…"


def endpoint_index(endpoint: str) -> str:
    return crypto.blind_index(Channel.PUSH, endpoint)


def contact_index(member: Member) -> str:
    """The push contact point's own blind index (unique per kind, like every contact point):
    it stands for the member, since the contact point holds several browsers."""
    return crypto.blind_index(Channel.PUSH, f"member:{member.pk}")


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


@dataclass(frozen=True)
class Subscribed:
    contact: ContactPoint
    #: How many browsers get the member's push alerts now.
    browsers: int
    #: Browsers dropped to make room (the least recently subscribed), at most one.
    replaced: list[Subscription] = field(default_factory=list)


def _stored(contact: ContactPoint) -> list[Subscription]:
    """Every browser the contact point holds ([] when its value cannot be read)."""
    try:
        return stored_subscriptions(contact.value) if contact.value_encrypted else []
    except ValueError:
        return []


def browsers_of(contact: ContactPoint | None) -> list[Subscription]:
    """The browsers that get this push contact point's alerts: none when it stopped working
    (every browser was gone) or its value cannot be read."""
    if contact is None or contact.disabled_at is not None:
        return []
    return _stored(contact)


def _store(contact: ContactPoint, browsers: list[Subscription]) -> None:
    """Write the browsers into the contact point and keep its PushEndpoint rows in step."""
    contact.value_encrypted = crypto.encrypt(stored_value(browsers))
    contact.save()
    wanted = {endpoint_index(b.endpoint) for b in browsers}
    PushEndpoint.objects.filter(contact=contact).exclude(endpoint_index__in=wanted).delete()
    have = set(PushEndpoint.objects.filter(contact=contact)
               .values_list("endpoint_index", flat=True))
    PushEndpoint.objects.bulk_create([PushEndpoint(contact=contact, endpoint_index=index)
                                      for index in sorted(wanted - have)])


def _remove(contact: ContactPoint, endpoints: set[str], *, delete_when_empty: bool) -> int:
    """Take these browsers out of the contact point; how many are left."""
    browsers = _stored(contact)
    kept = [b for b in browsers if b.endpoint not in endpoints]
    if not kept and delete_when_empty:
        contact.delete()
    elif len(kept) != len(browsers):
        _store(contact, kept)
    return len(kept)


def _locked_push_contact(member_id: int) -> ContactPoint | None:
    return (ContactPoint.objects.select_for_update()
            .filter(member_id=member_id, kind=Channel.PUSH).first())


@transaction.atomic
def do_subscribe(member: Member, subscription: Subscription) -> Subscribed:
    """Add this browser to the member's push contact point, which is enabled and confirmed
    (the browser itself handed over the subscription). The same browser again only counts
    as its newest; one more than MAX_BROWSERS replaces the least recently subscribed."""
    index = endpoint_index(subscription.endpoint)
    # The same browser used by someone else before: it now belongs to this member only.
    for other in (ContactPoint.objects.select_for_update()
                  .filter(kind=Channel.PUSH, push_endpoints__endpoint_index=index)
                  .exclude(member=member)):
        _remove(other, {subscription.endpoint}, delete_when_empty=True)
    PushEndpoint.objects.filter(endpoint_index=index).exclude(contact__member=member).delete()
    # A contact point from before several browsers, whose blind index was the endpoint's.
    ContactPoint.objects.filter(kind=Channel.PUSH, blind_index=index).exclude(
        member=member).delete()
    contact = _locked_push_contact(member.pk) or ContactPoint(member=member,
                                                                kind=Channel.PUSH)
    # A contact point that stopped working had only browsers that are gone.
    kept = [b for b in browsers_of(contact) if b.endpoint != subscription.endpoint]
    replaced = []
    while len(kept) >= MAX_BROWSERS:
        replaced.append(kept.pop(0))
    kept.append(subscription)
    contact.blind_index = contact_index(member)
    contact.enabled = True
    contact.verified_at = timezone.now()
    contact.disabled_at = None
    contact.disabled_reason = ""
    _store(contact, kept)
    return Subscribed(contact=contact, browsers=len(kept), replaced=replaced)


@transaction.atomic
def do_unsubscribe(member: Member, endpoint: str | None = None) -> int:
    """Stop push alerts in the browser with this endpoint only, or, without one, in all of
    the member's browsers. Returns how many browsers were removed; with none left the push
    contact point goes."""
    contact = _locked_push_contact(member.pk)
    if contact is None:
        return 0
    if endpoint is None:
        removed = max(1, len(_stored(contact)))
        contact.delete()
        return removed
    before = len(_stored(contact))
    return before - _remove(contact, {endpoint.strip()}, delete_when_empty=True)


@transaction.atomic
def do_forget_browsers(member_id: int, endpoints: Iterable[str]) -> int:
    """The push service says these browsers are no longer subscribed (404/410): remove
    them. Returns how many browsers the member has left. With none left the (empty) contact
    point stays, so that the outbox can mark it as stopped working and use the member's
    next channel."""
    contact = _locked_push_contact(member_id)
    if contact is None:
        return 0
    return _remove(contact, set(endpoints), delete_when_empty=False)
