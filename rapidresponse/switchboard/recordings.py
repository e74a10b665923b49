"""The recordings of voicemails, at Twilio: fetched for a dispatcher to listen to, and
deleted when the voicemail has been dealt with or is too old.

Playing: the browser asks our staff-only view, which fetches the MP3 from Twilio's REST API
with the account's credentials (through lib/http, the one outbound HTTP wrapper) and passes
it on. We chose that over redirecting the browser to Twilio's media URL: a media URL works
for anyone who has it unless the account enforces HTTP auth on media, and it would land in
the browser's history; through the proxy the link never leaves the server and the account
may require auth on media.

The URL is never the one a webhook gave us: we take the recording's SID from it (it must
look like one) and build the address from TWILIO_API_BASE, so a forged link cannot make the
server fetch anything else."""

from __future__ import annotations

import logging
import re

from django.conf import settings

from rapidresponse.lib import http

log = logging.getLogger(__name__)

SID = re.compile(r"/Recordings/(RE[0-9a-fA-F]{32})(?:\.\w+)?/?$")


def sid_of(url: str) -> str:
    """The recording's SID from a RecordingUrl, or "" if it does not hold one."""
    found = SID.search(url or "")
    return found.group(1) if found else ""


def _url(sid: str, suffix: str) -> str:
    return (f"{settings.TWILIO_API_BASE.rstrip('/')}/2010-04-01/Accounts/"
            f"{settings.TWILIO_ACCOUNT_SID}/Recordings/{sid}{suffix}")


def _auth() -> tuple[str, str]:
    return (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)


def fetch_mp3(url: str) -> bytes | None:
    """The recording's audio, or None when it cannot be had (gone, or Twilio unreachable)."""
    sid = sid_of(url)
    if not sid or not settings.TWILIO_ACCOUNT_SID:
        return None
    try:
        response = http.request("GET", _url(sid, ".mp3"), auth=_auth())
    except http.HttpError:
        log.warning("recording %s could not be fetched", sid)
        return None
    if response.status_code != 200:
        return None
    return response.content


def delete(url: str) -> bool:
    """Ask Twilio to delete the recording. True when it is gone (deleted now or before)."""
    sid = sid_of(url)
    if not sid:
        return True  # nothing we could ever fetch
    if not settings.TWILIO_ACCOUNT_SID:
        return False
    try:
        response = http.request("DELETE", _url(sid, ".json"), auth=_auth())
    except http.HttpError:
        log.warning("recording %s could not be deleted at Twilio; retried later", sid)
        return False
    return response.status_code in (204, 404)
