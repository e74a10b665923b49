"""SMS through Twilio's Messages API (a Messaging Service or a pool of sender numbers).

Configured by TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID or
TWILIO_FROM_NUMBERS, and TWILIO_API_BASE (tests point it at a local stub). Without them the
channel is disabled: sends fail (and are retried, then dead-lettered) and the console says so.

Every request goes through rapidresponse.lib.http. Each message asks Twilio to report its
fate to ``POST /hooks/twilio/status?d=<delivery id>`` (see views.status_callback) and, with
TWILIO_CONTENT_RETENTION=discard, not to keep the body. The text is sent in GSM-7 whenever
dropping accents makes that possible (segments.sms_text): half the segments of UCS-2.

A request whose answer was lost (read time-out, connection closed after sending) may or may
not have created a message: it is reported as timed out, so the delivery becomes `unknown`
and is reconciled with Twilio (``reconcile``) before anything is sent again. A request that
never reached Twilio (connection refused, connect time-out) is safe to retry.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from rapidresponse.channels.sms.segments import sms_text
from rapidresponse.delivery import sealing
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.delivery.transport import (
    Attempt,
    Outbound,
    Reconciled,
    Transport,
    TransportError,
)
from rapidresponse.lib import http
from rapidresponse.lib.redact import scrub

# Twilio error codes that will never succeed for this recipient: the contact point is
# disabled. Send-time (REST API) codes and delivery-time (status callback) codes.
PERMANENT_CODES = {
    21211,  # invalid 'To' number
    21214,  # 'To' number cannot be reached
    21408,  # region not enabled
    21610,  # recipient replied STOP (unsubscribed)
    21612,  # cannot route to this number
    21614,  # not a mobile number
    30005,  # unknown destination handset
    30006,  # landline or unreachable carrier
}
# Statuses after which a message is known to have left (or failed) for good.
SENT_STATUSES = {"accepted", "queued", "sending", "sent", "delivered", "scheduled", "read"}
FAILED_STATUSES = {"failed", "undelivered", "canceled"}
# Exceptions raised before the request could reach Twilio: nothing was sent.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
             httpx.UnsupportedProtocol, httpx.InvalidURL)
# How far around the recorded start of a lost attempt a message found at Twilio counts.
RECONCILE_BEFORE = timedelta(seconds=30)
RECONCILE_AFTER = timedelta(minutes=2)


def configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and (
        settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBERS))


def disabled_reason() -> str:
    if configured():
        return ""
    return ("Twilio SMS is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBERS.")


def sender_for(to: str) -> str:
    """A stable sender from the pool for each recipient, so a thread stays on one number."""
    pool = settings.TWILIO_FROM_NUMBERS
    digest = hashlib.sha256(to.encode()).digest()
    return str(pool[int.from_bytes(digest[:4], "big") % len(pool)])


@cache
def _status_path() -> str:
    return reverse("twilio_status")  # the same for every message: worked out once


def status_callback_url(delivery_id: int) -> str:
    return f"{settings.PUBLIC_URL}{_status_path()}?d={delivery_id}"


def _messages_url(sid: str = "") -> str:
    resource = f"Messages/{sid}.json" if sid else "Messages.json"
    return (f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/"
            f"{settings.TWILIO_ACCOUNT_SID}/{resource}")


def _request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    # Time-outs: OUTBOUND_HTTP_TIMEOUT (lib/http.py).
    return http.request(method, url, auth=(settings.TWILIO_ACCOUNT_SID,
                                           settings.TWILIO_AUTH_TOKEN), **kwargs)


def _retry_after(headers: Any) -> float | None:
    raw = headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(raw) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


def _error_of(response: httpx.Response) -> tuple[int | None, str]:
    try:
        error = response.json()
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    text = f"Twilio {response.status_code}"
    if code:
        text += f" ({code})"
    # Twilio's message often names the recipient: never stored or logged as it comes.
    text += f": {scrub(str(error.get('message') or response.text[:200]))}"
    return (int(code) if isinstance(code, int | str) and str(code).isdigit() else None), text


class TwilioSmsBackend(Transport):
    kind = "sms"
    is_live = True

    def describe(self) -> str:
        if not configured():
            return disabled_reason()
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            return f"Twilio (Messaging Service {settings.TWILIO_MESSAGING_SERVICE_SID})"
        return f"Twilio ({len(settings.TWILIO_FROM_NUMBERS)} sender numbers)"

    def rate_limit_key(self, message: Outbound) -> str:
        """SMS per second per sender: each pool number (or the Messaging Service) has its
        own bucket of SMS_RATE_PER_SECOND."""
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            return f"sms:{settings.TWILIO_MESSAGING_SERVICE_SID}"
        if settings.TWILIO_FROM_NUMBERS:
            return f"sms:{sender_for(message.to)}"
        return "sms"

    def send(self, message: Outbound) -> str:
        if not configured():
            raise TransportError(disabled_reason())
        data = {
            "To": message.to,
            "Body": sms_text(message.text),
            "StatusCallback": status_callback_url(message.delivery_id),
        }
        if settings.TWILIO_CONTENT_RETENTION:
            data["ContentRetention"] = settings.TWILIO_CONTENT_RETENTION
        if settings.TWILIO_ADDRESS_RETENTION:
            data["AddressRetention"] = settings.TWILIO_ADDRESS_RETENTION
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            data["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            data["From"] = sender_for(message.to)
        try:
            response = _request("POST", _messages_url(), data=data)
        except http.HttpError as exc:
            # Only a request that never left is safe to repeat; any other lost answer may
            # have created the message, so the delivery must be reconciled first.
            never_sent = isinstance(exc.__cause__, _NOT_SENT)
            raise TransportError(str(exc), timed_out=not never_sent) from exc
        if response.status_code in (200, 201):
            try:
                sid = str(response.json().get("sid") or "")
            except (ValueError, AttributeError):
                sid = ""
            if not sid:  # created, but we cannot tell which message it is
                raise TransportError("Twilio answered without a message SID", timed_out=True)
            return sid
        code, text = _error_of(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise TransportError(text, retry_after=_retry_after(response.headers))
        if code in PERMANENT_CODES:
            raise TransportError(text, permanent=True)
        # Our credentials, our request, an account setting: not this recipient's fault, so
        # the contact point stays; retried, then dead-lettered for staff to look at.
        raise TransportError(text)

    def reconcile(self, attempt: Attempt) -> str | None:
        """Ask Twilio whether a send whose answer we never got actually happened."""
        if not configured():
            return None
        try:
            if attempt.provider_id:
                response = _request("GET", _messages_url(attempt.provider_id))
                if response.status_code == 404:
                    return "failed"
                if response.status_code != 200:
                    return None
                return _verdict(str(response.json().get("status", "")))
            if not attempt.to or attempt.started_at is None:
                return None
            return self._find_lost(attempt.delivery_id, attempt.to, attempt.started_at,
                                   attempt.text)
        except (http.HttpError, ValueError, TypeError, AttributeError):
            return None

    def _find_lost(self, delivery_id: int, to: str, started_at: datetime,
                   text: str = "") -> str | None:
        """No SID came back: look for a message to this number created around the attempt
        that no other delivery accounts for (and, where Twilio kept the body, with this
        attempt's text; a text that carried a one-time code is not kept, so it is not
        compared).

        The database is read after the listing: a send to the same member that Twilio took
        before the listing is then either written down (its SID accounted for) or still in
        flight, and while one is in flight nothing is guessed (None: asked again later).
        Two sweeps can still guess the same message for two lost sends; the unique
        provider id lets only one of them record it (outbox.reconcile)."""
        start, end = started_at - RECONCILE_BEFORE, started_at + RECONCILE_AFTER
        found: list[dict[str, Any]] = []
        if sealing.is_sealed(text):
            text = ""
        expected = sms_text(text) if text else ""
        url: str | None = _messages_url()
        params: dict[str, Any] | None = {
            "To": to, "DateSent>": (start - timedelta(days=1)).date().isoformat(),
            "PageSize": 100}
        for _page in range(10):
            response = _request("GET", url, params=params)  # type: ignore[arg-type]
            if response.status_code != 200:
                return None
            page = response.json()
            for item in page.get("messages", []):
                created = parsedate_to_datetime(str(item.get("date_created", "")))
                body = str(item.get("body") or "")
                if start <= created <= end and not (body and text and body != expected):
                    found.append(item)
            next_uri = page.get("next_page_uri")
            if not next_uri:
                break
            url, params = settings.TWILIO_API_BASE.rstrip("/") + str(next_uri), None
        else:
            return None  # too many to tell
        sids = [str(item.get("sid", "")) for item in found]
        known = set(Delivery.objects.filter(channel=self.kind, provider_id__in=sids)
                    .values_list("provider_id", flat=True))
        ours = [item for item in found if str(item.get("sid", "")) not in known]
        if not ours:
            return "failed"
        if _send_in_flight(delivery_id):
            return None  # the message found may be that send's: ask again when it is written
        # The earliest unaccounted message is this attempt's; its SID is recorded with the
        # verdict, so the next lost send to this number cannot be matched to it as well.
        ours.sort(key=lambda item: parsedate_to_datetime(str(item.get("date_created", ""))))
        verdict = _verdict(str(ours[0].get("status", ""))) or "sent"
        return Reconciled(verdict, provider_id=str(ours[0].get("sid", "")))


def _send_in_flight(delivery_id: int) -> bool:
    """Another SMS to the same member is being sent right now (claimed within the lease and
    not written down yet)."""
    member = Delivery.objects.filter(pk=delivery_id).values_list("member_id", flat=True).first()
    if member is None:
        return False
    since = timezone.now() - timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    return Delivery.objects.filter(member_id=member, channel="sms", status=Status.SENDING,
                                   claimed_at__gte=since).exclude(pk=delivery_id).exists()


def _verdict(status: str) -> str | None:
    if status in SENT_STATUSES:
        return "sent"
    if status in FAILED_STATUSES:
        return "failed"
    return None
