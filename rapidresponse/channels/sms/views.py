"""Twilio's webhooks: texts received on our numbers, and status callbacks of the SMS we sent."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from rapidresponse.channels.sms import inbound, receipts
from rapidresponse.channels.sms.signature import is_from_twilio

log = logging.getLogger(__name__)


def _twiml(text: str) -> HttpResponse:
    response = MessagingResponse()
    if text:
        response.message(text)
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


def _fields(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def _refused() -> HttpResponse:
    return HttpResponse(_("This request is not signed by Twilio."), status=403,
                        content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    """POST /hooks/twilio/sms: a text to one of our numbers. Answered with TwiML."""
    if not is_from_twilio(request):
        return _refused()
    data = _fields(request)
    sid = str(data.get("MessageSid") or data.get("SmsSid") or "").strip()
    sender = str(data.get("From") or "").strip()
    if not sid or not sender:
        return HttpResponse(_("MessageSid and From are required."), status=400,
                            content_type="text/plain; charset=utf-8")
    reply = inbound.receive(sid, sender, str(data.get("Body") or ""))
    return _twiml(reply)


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    """POST /hooks/twilio/status?d=<delivery id>: what became of a message we sent."""
    if not is_from_twilio(request):
        return _refused()
    data = _fields(request)
    raw_id = request.GET.get("d", "")
    sid = str(data.get("MessageSid") or data.get("SmsSid") or "").strip()
    status = str(data.get("MessageStatus") or data.get("SmsStatus") or "").strip().lower()
    raw_code = str(data.get("ErrorCode") or "").strip()
    if not raw_id.isdigit() or not sid or not status or (raw_code and not raw_code.isdigit()):
        return HttpResponse(_("d, MessageSid and MessageStatus are required."), status=400,
                            content_type="text/plain; charset=utf-8")
    receipts.record_status(int(raw_id), sid, status, int(raw_code) if raw_code else None)
    return HttpResponse(status=204)
