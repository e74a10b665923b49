"""Twilio's webhooks (inbound SMS, status callbacks) and the dispatcher's SMS thread page."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse

from rapidresponse.accounts.access import access_console
from rapidresponse.alerts.vocabulary import Activity, Agency
from rapidresponse.channels.sms import actions
from rapidresponse.channels.sms.models import SmsThread, ThreadState
from rapidresponse.channels.sms.signature import is_from_twilio
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.zones.models import Zone

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
    reply = actions.receive(sid, sender, str(data.get("Body") or ""))
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
    actions.record_status(int(raw_id), sid, status, int(raw_code) if raw_code else None)
    return HttpResponse(status=204)


# --- the dispatcher's side ---------------------------------------------------------------


def _thread(request: HttpRequest, thread_id: int) -> SmsThread:
    access_console(request.user)
    thread = SmsThread.objects.filter(pk=thread_id).first()
    if thread is None:
        raise Http404
    return thread


def _back(request: HttpRequest, thread: SmsThread) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("sms_thread", thread_id=thread.pk)


def thread_context(thread: SmsThread) -> dict[str, Any]:
    return {
        "thread": thread,
        "thread_messages": list(thread.messages.select_related("author", "report")),
        "waiting": thread.state in (ThreadState.UNPLACED, ThreadState.WHAT, ThreadState.WHERE),
        "zones": list(Zone.objects.filter(cells__isnull=False).distinct().order_by("name")),
        "activities": Activity.choices,
        "agencies": Agency.choices,
        "guess": {"zone": thread.draft_zone_id,
                  "activity": actions.guess_activity(thread.draft_text),
                  "agency": actions.guess_agency(thread.draft_text)},
        "max_reply": actions.MAX_REPLY,
    }


@login_required
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    return render(request, "sms/thread.html", thread_context(thread))


def _errors(request: HttpRequest, exc: InvalidInput) -> None:
    for text in exc.errors.values():
        messages.error(request, text)


@login_required
@require_POST
def thread_reply(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    try:
        actions.do_reply(thread, request.POST.get("text", ""), request.user)
    except InvalidInput as exc:
        _errors(request, exc)
        context = thread_context(thread)
        context["reply_text"] = request.POST.get("text", "")
        return render(request, "sms/thread.html", context, status=400)
    messages.success(request, _("Reply queued."))
    return _back(request, thread)


@login_required
@require_POST
def thread_file(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    try:
        report = actions.do_file_thread(
            thread, zone_id=request.POST.get("zone", ""),
            activity=request.POST.get("activity", ""), agency=request.POST.get("agency", ""),
            actor=request.user)
    except InvalidInput as exc:
        _errors(request, exc)
        return render(request, "sms/thread.html", thread_context(thread), status=400)
    messages.success(request, _("Report saved."))
    return redirect("incident", incident_id=report.incident_id)


@login_required
@require_POST
def thread_close(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    actions.do_close_thread(thread, request.user)
    messages.success(request, _("Conversation closed without a report."))
    return redirect("sms_thread", thread_id=thread.pk)
