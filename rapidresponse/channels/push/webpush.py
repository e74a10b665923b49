"""Web push (PUSH_BACKEND=webpush): the message is encrypted for each browser (RFC 8291,
aes128gcm) with pywebpush, signed with our VAPID key (RFC 8292), and posted to the browser's
push service through rapidresponse.lib.http like every other outbound request.

The payload is JSON {title, body, url, tag, lang}; the service worker (web/static/web/sw.js)
shows it as a notification and opens `url` when it is tapped.

A member's push contact point holds up to five browsers, and the outbox has one delivery per
member and channel, so one send posts the message to every browser (at the same time, each
with its own encryption) and the outcome of the delivery is decided from all the answers:

- a browser whose push service answers 404 or 410 is no longer subscribed: it is removed
  from the contact point at once, whatever the others answered;
- the delivery is sent when at least one browser took the message (2xx);
- when none took it and no browser is left, the error is permanent: the outbox marks the
  push contact point as stopped working and sends the message on the member's next channel;
- otherwise (busy or unreachable push services, time-outs) the error is transient and the
  outbox retries the whole delivery later. Since no browser took the message, nobody gets
  it twice, except a browser whose answer was lost (time-out), which gets the same
  notification again (same tag and Topic: it replaces the first, see reconcile).

Browsers that failed for a passing reason while another browser took the message are NOT
tried again: the delivery is sent and a retry of the delivery would post to every browser
again, so the ones that took it would show it twice. The member has the message on at least
one of their browsers; the provider id of the delivery says how many took it
("webpush-2of3-..."), and the log names the push services that did not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError
from django.urls import reverse
from py_vapid import VapidException
from pywebpush import WebPusher

from rapidresponse.channels.push import vapid
from rapidresponse.channels.push.subscriptions import (
    Subscription,
    do_forget_browsers,
    stored_subscriptions,
)
from rapidresponse.delivery.models import Delivery, Kind
from rapidresponse.delivery.transport import Attempt, Outbound, Transport, TransportError
from rapidresponse.lib import http

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class Answer:
    """What one browser's push service said to one message."""

    browser: Subscription
    status: int | None = None  # None: no answer at all
    timed_out: bool = False
    retry_after: float | None = None
    location: str = ""

    @property
    def took(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)

    def reason(self) -> str:
        # Errors are kept in the database: they name only the push service's host, never
        # the endpoint, which is a contact value.
        host = self.browser.host
        if self.status is not None:
            return f"push service {host} answered {self.status}"
        return f"push service {host} {'timed out' if self.timed_out else 'could not be reached'}"


def _post(browser: Subscription, body: bytes, headers: dict[str, str]) -> Answer:
    try:
        response = http.request("POST", browser.endpoint, content=body, headers=headers)
    except http.HttpError as exc:
        return Answer(browser, timed_out=exc.timed_out)
    status = response.status_code
    retry_after = None
    if status == 429 or status >= 500:
        raw = response.headers.get("Retry-After", "")
        retry_after = float(raw) if raw.isdigit() else None
    return Answer(browser, status=status, retry_after=retry_after,
                  location=response.headers.get("Location", ""))


def post_to_all(requests: list[tuple[Subscription, bytes, dict[str, str]]]) -> list[Answer]:
    """Post to every browser at once: the last browser of five must not wait for the
    first four, and the send stays well inside the outbox's claim on the delivery."""
    if len(requests) == 1:
        return [_post(*requests[0])]

    def post_and_close(request: tuple[Subscription, bytes, dict[str, str]]) -> Answer:
        try:
            return _post(*request)
        finally:
            http.release()  # the thread ends with this post: its client goes on

    with ThreadPoolExecutor(max_workers=len(requests), thread_name_prefix="webpush") as pool:
        return list(pool.map(post_and_close, requests))


class WebPushBackend(Transport):
    kind = "push"

    def send(self, message: Outbound) -> str:
        try:
            browsers = stored_subscriptions(message.to)
        except ValueError as exc:
            raise TransportError("the stored push subscriptions are not valid",
                                 permanent=True) from exc
        if not browsers:
            raise TransportError("no browser is subscribed to push alerts", permanent=True)
        tag = _tag(message.delivery_id)
        payload = payload_for(message, tag)
        signed: dict[str, str] = {}  # one VAPID token per push service
        requests = []
        for browser in browsers:
            url = urlsplit(browser.endpoint)
            audience = f"{url.scheme}://{url.netloc}"
            if audience not in signed:
                try:
                    signed[audience] = vapid.keys().authorization(browser.endpoint,
                                                                  settings.VAPID_SUBJECT)
                except VapidException as exc:
                    raise TransportError(f"cannot sign for the push service: {exc}") from exc
            body = WebPusher(browser.as_dict()).encode(payload, "aes128gcm")["body"]
            headers = {
                "Authorization": signed[audience],
                "TTL": str(ttl(message.kind)),
                "Urgency": urgency(message.kind),
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
            }
            if _TOPIC.match(tag):
                # An undelivered message with the same topic is replaced at the push
                # service: a phone that was off gets the all-clear, not the stale alert
                # then the all-clear.
                headers["Topic"] = tag
            requests.append((browser, body, headers))
        return self.outcome(message, post_to_all(requests))

    def outcome(self, message: Outbound, answers: list[Answer]) -> str:
        """The delivery's outcome from every browser's answer (see the module's notes)."""
        took = [a for a in answers if a.took]
        gone = [a for a in answers if a.gone]
        failed = [a for a in answers if not a.took and not a.gone]
        left = len(answers) - len(gone)
        if gone:
            try:
                left = do_forget_browsers(message.member_id,
                                          [a.browser.endpoint for a in gone])
            except DatabaseError:
                # Tried again, and removed, with the next message to this member.
                log.exception("delivery %s: could not remove %d gone browsers",
                              message.delivery_id, len(gone))
        if took:
            if failed:
                log.warning("delivery %s: %d of %d browsers took it; not sent again to %s",
                            message.delivery_id, len(took), len(answers),
                            "; ".join(a.reason() for a in failed))
            locations = "\n".join(a.location for a in took)
            digest = (hashlib.sha256(locations.encode()).hexdigest()[:24] if locations.strip()
                      else str(message.delivery_id))
            return f"webpush-{len(took)}of{len(answers)}-{digest}"
        # The same push service may answer the same for several browsers: say it once.
        reasons = "; ".join(dict.fromkeys(a.reason() for a in failed + gone))
        if not failed:
            if left == 0:
                raise TransportError(f"no browser is subscribed any more ({reasons})",
                                     permanent=True)
            # Every browser this send knew of is gone, but the member has subscribed
            # another one since: the retry goes there.
            raise TransportError(f"the browser is no longer subscribed ({reasons})")
        if any(a.timed_out for a in failed):
            raise TransportError(reasons, timed_out=True)
        waits = [a.retry_after for a in failed if a.retry_after is not None]
        raise TransportError(reasons, retry_after=max(waits) if waits else None)

    def reconcile(self, attempt: Attempt) -> str | None:
        """Push services cannot be asked whether a message was accepted, but sending it
        again (to every browser still subscribed) is safe: the copy has the same tag, so on
        the phone it replaces the first notification instead of adding one, and the same
        Topic, so a push service still holding the first keeps only one. Waiting instead
        would let an alert go stale."""
        return "failed"
