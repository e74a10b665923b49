"""Checking that a webhook really comes from Twilio.

Twilio signs the full URL it called (scheme, host, path and query) followed by the POST
parameters. Behind a reverse proxy Django sees another scheme and host, so the URL is
rebuilt from PUBLIC_URL, or from X-Forwarded-Proto / X-Forwarded-Host when the proxy sends
them. Forging those headers gains nothing: without the secret no signature matches.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

log = logging.getLogger(__name__)


def _first(value: str) -> str:
    return value.split(",")[0].strip()


def public_url_of(request: HttpRequest) -> str:
    """The URL Twilio called, as the public sees it."""
    public = urlsplit(settings.PUBLIC_URL)
    scheme = _first(request.headers.get("X-Forwarded-Proto", "")) or public.scheme
    host = _first(request.headers.get("X-Forwarded-Host", "")) or public.netloc
    return f"{scheme}://{host}{request.get_full_path()}"


def is_from_twilio(request: HttpRequest) -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    signing = request.headers.get(SIGNATURE_SETTINGS_HEADER, "")
    if signing:
        # A Webhook Rule signs with a SharedKey and the algorithm it names.
        secret = settings.TWILIO_WEBHOOK_SHARED_KEY
        if not secret:
            log.error("Twilio webhook signed with a SharedKey, but TWILIO_WEBHOOK_SHARED_KEY "
                      "is not set: refused")
            return False
    else:
        secret = settings.TWILIO_AUTH_TOKEN
    if not secret:
        return False
    params: object
    if request.content_type == "application/json":
        if "bodySHA256" not in request.GET:
            return False
        params = request.body.decode("utf-8", errors="replace")  # checked by bodySHA256
    else:
        params = request.POST
    return bool(RequestValidator(secret).validate(
        public_url_of(request), params, signature, get_signature_algorithm(signing)))
