"""Evidence pages: a light phone page to add a photo, video, audio or a note to an incident
(a plain form, no JavaScript needed), the shared copy and the original, the attorney's
package and its release."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapidresponse.accounts.access import CONSOLE_ROLES, access_role, has_role
from rapidresponse.evidence import access, actions, serve, uploads
from rapidresponse.evidence.inspect import Refused, has_ffmpeg
from rapidresponse.evidence.models import Evidence
from rapidresponse.incidents.models import OPEN_STATES
from rapidresponse.lib.errors import InvalidInput

LISTED = 50


@login_required
@never_cache
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The open incidents this person may add evidence to."""
    access_role(request.user, access.UPLOAD_ROLES)
    incidents = (access.incidents_for_upload(request.user).filter(state__in=OPEN_STATES)
                 .select_related("zone").order_by("-last_report_at")[:LISTED])
    return render(request, "evidence/home.html", {"incidents": incidents})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access.access_incident_for_upload(request.user, incident_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            if uploads.too_large(request):
                raise Refused(413, actions.too_large_message())
            evidence = actions.do_upload(incident, request.user, request.FILES.get("file"),
                                         request.POST.get("note", ""))
        except Refused as exc:
            error, status = exc.message, exc.status
        except InvalidInput as exc:
            error, status = " ".join(exc.errors.values()), 400
        else:
            messages.success(request, _("Kept as evidence %(id)s. SHA-256 of what we "
                                        "received: %(sha256)s")
                             % {"id": evidence.pk, "sha256": evidence.sha256})
            return redirect("evidence_upload", incident_id=incident.pk)
    items = access.visible_evidence(request.user, incident).select_related("uploaded_by")
    return render(request, "evidence/upload.html", {
        "incident": incident, "items": list(items), "error": error, "ffmpeg": has_ffmpeg(),
        "console": has_role(request.user, CONSOLE_ROLES)}, status=status)


@login_required
@never_cache
@require_GET
def shared(request: HttpRequest, evidence_id: int) -> HttpResponseBase:
    evidence = access.access_shared(request.user, evidence_id)
    try:
        return serve.shared(evidence, request.user)
    except serve.NoSharedCopy as exc:
        return HttpResponse(str(exc), status=404, content_type="text/plain; charset=utf-8")


@login_required
@never_cache
@require_GET
def original(request: HttpRequest, evidence_id: int) -> HttpResponseBase:
    evidence: Evidence = access.access_original(request.user, evidence_id)
    return serve.original(evidence, request.user)


@login_required
@never_cache
@require_GET
def package(request: HttpRequest, incident_id: int) -> HttpResponseBase:
    incident = access.access_package(request.user, incident_id)
    return serve.evidence_package(incident, request.user)


@login_required
@require_POST
def release(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access.access_release(request.user, incident_id)
    try:
        count = actions.do_release(incident, request.user)
    except InvalidInput as exc:
        for text in exc.errors.values():
            messages.error(request, text)
    else:
        messages.success(request, _("%(n)s items released to the attorney: they are deleted "
                                    "after the retention period for released evidence.")
                         % {"n": count})
    return redirect("incident", incident_id=incident.pk)
