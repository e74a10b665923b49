"""Texting the hotline in tests: a signed Twilio webhook, as Twilio would send it."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from tests.stubs.twilio_stub import PUBLIC_URL, signature

HOTLINE = "+12135550100"


def text_hotline(client: Any, body: str, sender: str) -> str:
    """Text the hotline as `sender`; return the reply Twilio would send back ("" for none)."""
    params = {"MessageSid": "SM" + secrets.token_hex(16), "Body": body, "From": sender,
              "To": HOTLINE}
    path = "/hooks/twilio/sms"
    r = client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded",
                    HTTP_X_TWILIO_SIGNATURE=signature(PUBLIC_URL + path, params))
    assert r.status_code == 200, r.content
    return " ".join(m.text or "" for m in ElementTree.fromstring(r.content).findall("Message"))
