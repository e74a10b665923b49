"""The dispatcher's page of one SMS conversation: the thread, a reply, and filing the report
the system could not place."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapidresponse.accounts.access import scope_of
from rapidresponse.alerts.vocabulary import Activity, Agency
from rapidresponse.channels.sms import threads
from rapidresponse.channels.sms.access import access_thread
from rapidresponse.channels.sms.keywords import guess_activity, guess_agency
from rapidresponse.channels.sms.models import SmsThread, ThreadState
from rapidresponse.incidents import hotline
from rapidresponse.incidents.views import after_report
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.zones.models import Zone


def _thread(request: HttpRequest, thread_id: int) -> SmsThread:
    return access_thread(request.user, thread_id)


def _back(request: HttpRequest, thread: SmsThread) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect("sms_thread", thread_id=thread.pk)


def thread_context(request: HttpRequest, thread: SmsThread) -> dict[str, Any]:
    # The neighbourhoods offered to place the report: those the dispatcher works in.
    zones = Zone.objects.filter(scope_of(request.user).zone_q("pk"), cells__isnull=False)
    return {
        "thread": thread,
        "thread_messages": list(thread.messages.select_related("author", "report")),
        "waiting": thread.state in (ThreadState.UNPLACED, ThreadState.WHAT, ThreadState.WHERE),
        "zones": list(zones.distinct().order_by("name")),
        "activities": Activity.choices,
        "agencies": Agency.choices,
        "guess": {"zone": thread.draft_zone_id,
                  "activity": guess_activity(thread.draft_text),
                  "agency": guess_agency(thread.draft_text)},
        "max_reply": threads.MAX_REPLY,
    }


@login_required
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    return render(request, "sms/thread.html", thread_context(request, thread))


def _errors(request: HttpRequest, exc: InvalidInput) -> None:
    for text in exc.errors.values():
        messages.error(request, text)


@login_required
@require_POST
def thread_reply(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    try:
        threads.do_reply(thread, request.POST.get("text", ""), request.user)
    except InvalidInput as exc:
        _errors(request, exc)
        context = thread_context(request, thread)
        context["reply_text"] = request.POST.get("text", "")
        return render(request, "sms/thread.html", context, status=400)
    messages.success(request, _("Reply queued."))
    return _back(request, thread)


@login_required
@require_POST
def thread_file(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    try:
        report = hotline.do_file_thread(
            thread, zone_id=request.POST.get("zone", ""),
            activity=request.POST.get("activity", ""), agency=request.POST.get("agency", ""),
            actor=request.user)
    except InvalidInput as exc:
        _errors(request, exc)
        return render(request, "sms/thread.html", thread_context(request, thread), status=400)
    messages.success(request, _("Report saved."))
    return after_report(request, report.incident_id)


@login_required
@require_POST
def thread_close(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = _thread(request, thread_id)
    hotline.do_close_thread(thread, request.user)
    messages.success(request, _("Conversation closed without a report."))
    return redirect("sms_thread", thread_id=thread.pk)
