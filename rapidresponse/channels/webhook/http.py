"""The webhook channel: alerts POSTed as signed JSON to partner systems (WEBHOOK_BACKEND=http).

Each request carries X-RapidResponse-Timestamp (Unix seconds), X-RapidResponse-Signature
(hex HMAC-SHA256 of "{timestamp}.{body}" with the partner's secret) and
X-RapidResponse-Delivery (the same on every retry: partners drop repeats by it). Errors are
retried like on every channel; 410 Gone means the endpoint was retired (permanent)."""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError

from rapidresponse.channels.webhook import partners
from rapidresponse.delivery.transport import Attempt, Outbound, Transport, TransportError
from rapidresponse.lib import http


def _retry_after(raw: str) -> float | None:
    return float(raw) if raw.strip().isdigit() else None


class WebhookBackend(Transport):
    kind = "webhook"
    is_live = True

    def describe(self) -> str:
        return "signed JSON to partner endpoints"

    def send(self, message: Outbound) -> str:
        try:
            endpoint = partners.decode(message.to)
            url = partners.validate_url(endpoint.url)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise TransportError("the partner endpoint is not a valid address",
                                 permanent=True) from exc
        body = partners.body_bytes(partners.payload(message.delivery_id))
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "RapidResponse-Webhook/1",
            partners.TIMESTAMP_HEADER: timestamp,
            partners.SIGNATURE_HEADER: partners.sign(endpoint.secret, timestamp, body),
            partners.DELIVERY_HEADER: str(message.delivery_id),
        }
        try:
            response = http.request("POST", url, content=body, headers=headers)
        except http.HttpError as exc:
            # The URL may carry a partner's token in its path: never store it.
            what = "timed out" if exc.timed_out else "unreachable"
            raise TransportError(f"partner endpoint {what}", timed_out=exc.timed_out) from exc
        status = response.status_code
        if 200 <= status < 300:
            return f"webhook-{message.delivery_id}"
        error = f"partner endpoint answered {status}"
        if status == 410:
            raise TransportError(error, permanent=True)
        raise TransportError(error, retry_after=_retry_after(
            response.headers.get("Retry-After", "")) if status in (429, 503) else None)

    def reconcile(self, attempt: Attempt) -> str | None:
        """A partner cannot be asked what it received; it drops repeats by the delivery id
        header, so a send whose answer was lost is simply sent again."""
        return "failed"
