"""Signal through a signal-cli REST API (github.com/bbernhard/signal-cli-rest-api), best effort.

SIGNAL_BACKEND=signal-cli, SIGNAL_API_URL (e.g. http://127.0.0.1:8080) and SIGNAL_NUMBER (the
network's registered Signal number). Sends are `POST {SIGNAL_API_URL}/v2/send` with
{"message", "number", "recipients": [one member]}; the API answers 201 {"timestamp": ...}.

Best effort: errors are retried like on every channel; an "Unregistered user" answer (the
member is not on Signal) is permanent and moves the member to their next channel. The API
cannot be asked afterwards whether a message went out, so a send whose answer was lost stays
`unknown` and is dead-lettered for staff rather than sent twice."""

from __future__ import annotations

import re

from django.conf import settings

from rapidresponse.delivery.transport import Outbound, Transport, TransportError
from rapidresponse.lib import http

# The member's number has no Signal account: no point in trying again.
UNREGISTERED = re.compile(r"unregistered\s+user|UnregisteredUserException", re.IGNORECASE)
RATE_LIMITED = re.compile(r"rate\s*limit|RateLimitException|\b413\b", re.IGNORECASE)
RATE_LIMIT_WAIT_S = 60.0


def configured() -> bool:
    return bool(settings.SIGNAL_API_URL and settings.SIGNAL_NUMBER)


def disabled_reason() -> str:
    if configured():
        return ""
    return "Signal is not configured: set SIGNAL_API_URL and SIGNAL_NUMBER."


def _redact(text: str, number: str) -> str:
    """Errors are stored: they must not hold the member's number in clear text."""
    return text.replace(number, "***") if number else text


class SignalCliBackend(Transport):
    kind = "signal"
    is_live = True

    def describe(self) -> str:
        return disabled_reason() or f"signal-cli REST API at {settings.SIGNAL_API_URL}"

    def send(self, message: Outbound) -> str:
        if not configured():
            raise TransportError(disabled_reason())
        url = settings.SIGNAL_API_URL.rstrip("/") + "/v2/send"
        text = f"{message.subject}\n\n{message.text}" if message.subject else message.text
        payload = {"message": text, "number": settings.SIGNAL_NUMBER,
                   "recipients": [message.to]}
        try:
            response = http.request("POST", url, json=payload)
        except http.HttpError as exc:
            raise TransportError(_redact(str(exc), message.to), timed_out=exc.timed_out) from exc
        if response.status_code in (200, 201):
            try:
                body = response.json()
            except ValueError:
                body = {}
            stamp = body.get("timestamp", "") if isinstance(body, dict) else ""
            # The timestamp is the message's id at Signal, but two sends may share one: the
            # delivery's id keeps ours unique (a provider id names one delivery only).
            return f"signal-{stamp}-{message.delivery_id}" if stamp else ""
        try:
            body = response.json()
            error = str(body.get("error", "")) if isinstance(body, dict) else str(body)
        except ValueError:
            error = response.text
        error = _redact(f"signal-cli {response.status_code}: {error.strip()[:200]}", message.to)
        if UNREGISTERED.search(error):
            raise TransportError(error, permanent=True)
        if response.status_code == 429 or RATE_LIMITED.search(error):
            retry_after = response.headers.get("Retry-After", "")
            raise TransportError(error, retry_after=float(retry_after)
                                 if retry_after.isdigit() else RATE_LIMIT_WAIT_S)
        # Anything else (our number not registered, the API restarting) may clear up.
        raise TransportError(error)
