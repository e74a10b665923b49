"""The dispatcher's voicemail page: listen, then file it as a report (typing in the place the
caller gave) or dismiss it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapidresponse.accounts.access import access_console
from rapidresponse.channels.sms.access import access_thread
from rapidresponse.incidents.access import access_incident
from rapidresponse.incidents.forms import report_context
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.switchboard import recordings
from rapidresponse.switchboard.access import access_voicemail
from rapidresponse.switchboard.models import Offer, OfferKind, Voicemail, VoicemailStatus
from rapidresponse.switchboard.routing import do_claim
from rapidresponse.switchboard.voicemails import do_dismiss_voicemail, do_file_voicemail


def _page(request: HttpRequest, voicemail: Voicemail, *, values: Any = None,
          errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    context = report_context(request, errors=errors or {})
    context["values"] = values if values is not None else {
        "notes": _("Voicemail left on the hotline."), "contact": voicemail.caller}
    context.update(voicemail=voicemail, waiting=voicemail.status == VoicemailStatus.WAITING)
    response = render(request, "switchboard/voicemail.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def voicemail(request: HttpRequest, voicemail_id: int) -> HttpResponse:
    return _page(request, access_voicemail(request.user, voicemail_id))


@login_required
@require_GET
def voicemail_recording(request: HttpRequest, voicemail_id: int) -> HttpResponse:
    """The recording, fetched from Twilio with the account's credentials (recordings.py)."""
    found = access_voicemail(request.user, voicemail_id)
    if not found.recording_url_encrypted:
        return HttpResponse(_("This recording has been deleted."), status=404,
                            content_type="text/plain; charset=utf-8")
    audio = recordings.fetch_mp3(found.recording_url)
    if audio is None:
        return HttpResponse(_("The recording cannot be fetched from Twilio right now."),
                            status=502, content_type="text/plain; charset=utf-8")
    response = HttpResponse(audio, content_type="audio/mpeg")
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def voicemail_file(request: HttpRequest, voicemail_id: int) -> HttpResponse:
    found = access_voicemail(request.user, voicemail_id)
    data: dict[str, Any] = request.POST.dict()
    data["language"] = data.get("report_language") or get_language() or "en"
    data["is_drill"] = request.POST.get("is_drill") == "on"
    try:
        report = do_file_voicemail(found, data, request.user)
    except InvalidInput as exc:
        return _page(request, found, values=request.POST, errors=exc.errors, status=400)
    messages.success(request, _("Voicemail filed as a report."))
    return redirect(reverse("incident", args=[report.incident_id]))


@login_required
@require_POST
def voicemail_dismiss(request: HttpRequest, voicemail_id: int) -> HttpResponse:
    found = access_voicemail(request.user, voicemail_id)
    try:
        do_dismiss_voicemail(found, request.user)
    except InvalidInput as exc:
        messages.error(request, " ".join(str(v) for v in exc.errors.values()))
        return redirect(reverse("voicemail", args=[found.pk]))
    messages.success(request, _("Voicemail dismissed."))
    return redirect(reverse("console"))


@login_required
@require_POST
def offer_take(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Take a new report or SMS conversation offered to the dispatchers (first one wins)."""
    access_console(request.user)
    offer = Offer.objects.filter(pk=offer_id).first()
    if offer is None:
        raise Http404
    if offer.kind == OfferKind.INCIDENT:
        access_incident(request.user, offer.object_id)
        back = reverse("incident", args=[offer.object_id])
    else:
        access_thread(request.user, offer.object_id)
        back = reverse("sms_thread", args=[offer.object_id])
    try:
        do_claim(offer, request.user)
    except InvalidInput as exc:
        messages.error(request, " ".join(str(v) for v in exc.errors.values()))
        return redirect(back)
    messages.success(request, _("You took it."))
    return redirect(back)
