"""Web push (PUSH_BACKEND=webpush): the message is encrypted for the browser (RFC 8291,
aes128gcm) with pywebpush, signed with our VAPID key (RFC 8292), and posted to the browser's
push service through rapidresponse.lib.http like every other outbound request.

The payload is JSON {title, body, url, tag, lang}; the service worker (web/static/web/sw.js)
shows it as a notification and opens `url` when it is tapped.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from py_vapid import VapidException
from pywebpush import WebPusher

from rapidresponse.channels.push import vapid
from rapidresponse.channels.push.subscriptions import Subscription
from rapidresponse.delivery.models import Delivery, Kind
from rapidresponse.delivery.transport import Attempt, Outbound, Transport, TransportError
from rapidresponse.lib import http

#: Alerts and their follow-ups, and requests to go and verify, must wake the phone now and
#: are useless after an hour; the rest can wait for the phone's next good moment.
URGENT_KINDS = {Kind.ALERT, Kind.ALL_CLEAR, Kind.CORRECTION, Kind.DISPATCH}
TTL_SECONDS = {Kind.ALERT: 3600, Kind.ALL_CLEAR: 3600, Kind.CORRECTION: 3600,
               Kind.DISPATCH: 3600, Kind.CONFIRMATION: 1800, Kind.NOTICE: 24 * 3600}
DEFAULT_TTL = 24 * 3600
#: A push message carries at most 4096 bytes once encrypted (RFC 8030 §7.2); aes128gcm adds
#: 86 bytes of header, 16 of tag and 1 of padding. The JSON is kept well under that.
MAX_PAYLOAD_BYTES = 3000
MAX_TITLE_CHARS = 120
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_LINK = re.compile(r"https?://\S+")


def urgency(kind: str) -> str:
    return "high" if kind in URGENT_KINDS else "normal"


def ttl(kind: str) -> int:
    return TTL_SECONDS.get(Kind(kind), DEFAULT_TTL) if kind in Kind.values else DEFAULT_TTL


def _tag(delivery_id: int) -> str:
    """Notifications about the same incident replace each other (an all-clear replaces the
    alert on the phone); anything else is its own notification."""
    row = (Delivery.objects.filter(pk=delivery_id)
           .values_list("message_id", "message__alert__incident_id").first())
    if row is None:
        return f"delivery-{delivery_id}"
    message_id, incident_id = row
    return f"incident-{incident_id}" if incident_id else f"message-{message_id}"


def _url(message: Outbound) -> str:
    """Where a tap on the notification goes: a path on this site."""
    for link in _LINK.findall(message.text):
        if link.startswith(settings.PUBLIC_URL + "/"):
            parts = urlsplit(link)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    if message.kind in (Kind.ALERT, Kind.ALL_CLEAR, Kind.CORRECTION):
        return reverse("map")
    if message.kind == Kind.CONFIRMATION:
        return reverse("me")
    return reverse("home")


def payload_for(message: Outbound, tag: str) -> bytes:
    """The notification as JSON, cut to fit in one push message."""
    title = (message.subject or settings.NETWORK_NAME)[:MAX_TITLE_CHARS]
    data = {"title": title, "body": message.text, "url": _url(message), "tag": tag,
            "lang": message.language}
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    body = message.text
    while len(encoded) > MAX_PAYLOAD_BYTES:
        body = body[:max(0, len(body) - (len(encoded) - MAX_PAYLOAD_BYTES) - 1)]
        data["body"] = body.rstrip() + "…"
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return encoded


class WebPushBackend(Transport):
    kind = "push"

    def send(self, message: Outbound) -> str:
        try:
            subscription = Subscription.from_json(message.to)
        except ValueError as exc:
            raise TransportError("the stored push subscription is not valid",
                                 permanent=True) from exc
        host = urlsplit(subscription.endpoint).hostname or "?"
        tag = _tag(message.delivery_id)
        try:
            authorization = vapid.keys().authorization(subscription.endpoint,
                                                       settings.VAPID_SUBJECT)
        except VapidException as exc:
            raise TransportError(f"cannot sign for the push service: {exc}") from exc
        body = WebPusher(subscription.as_dict()).encode(payload_for(message, tag),
                                                        "aes128gcm")["body"]
        headers = {
            "Authorization": authorization,
            "TTL": str(ttl(message.kind)),
            "Urgency": urgency(message.kind),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        }
        if _TOPIC.match(tag):
            # An undelivered message with the same topic is replaced at the push service:
            # a phone that was off gets the all-clear, not the stale alert then the all-clear.
            headers["Topic"] = tag
        try:
            response = http.request("POST", subscription.endpoint, content=body,
                                    headers=headers)
        except http.HttpError as exc:
            # The error names the endpoint, which is a contact value: say only the host.
            reason = "timed out" if exc.timed_out else "could not be reached"
            raise TransportError(f"push service {host} {reason}",
                                 timed_out=exc.timed_out) from exc
        status = response.status_code
        if 200 <= status < 300:
            location = response.headers.get("Location", "")
            digest = hashlib.sha256(location.encode()).hexdigest()[:24] if location else ""
            return f"webpush-{digest or message.delivery_id}"
        if status in (404, 410):
            raise TransportError(f"push service {host} answered {status}: the browser is "
                                 "no longer subscribed", permanent=True)
        retry_after = None
        if status == 429 or status >= 500:
            raw = response.headers.get("Retry-After", "")
            retry_after = float(raw) if raw.isdigit() else None
        raise TransportError(f"push service {host} answered {status}", retry_after=retry_after)

    def reconcile(self, attempt: Attempt) -> str | None:
        """Push services cannot be asked whether a message was accepted, but sending it
        again is safe: the copy has the same tag, so on the phone it replaces the first
        notification instead of adding one, and the same Topic, so a push service still
        holding the first keeps only one. Waiting instead would let an alert go stale."""
        return "failed"
