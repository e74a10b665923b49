"""The dispatcher console and the verifier's page."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapidresponse.accounts.access import (
    VERIFY_ROLES,
    access_console,
    access_role,
    role_of,
    scope_of,
)
from rapidresponse.accounts.models import AuditEntry, Role
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.incidents import actions, hotline, panels, queries, transitions
from rapidresponse.incidents.access import (
    access_incident,
    access_incident_for_verification,
    incidents_in_scope,
    incidents_to_verify,
)
from rapidresponse.incidents.forms import report_context
from rapidresponse.incidents.models import UNVERIFIED_STATES, Incident, Outcome, Source
from rapidresponse.incidents.transitions import Step
from rapidresponse.lib import geo
from rapidresponse.lib.errors import InvalidInput, flash_failure
from rapidresponse.members.models import Channel


@login_required
def console(request: HttpRequest) -> HttpResponse:
    if role_of(request.user) == Role.VERIFIER:  # where signing in lands a verifier
        return redirect("verify_list")
    access_console(request.user)
    show_all = request.GET.get("all") == "1"
    return render(request, "incidents/console.html", {
        "incidents": queries.console_queue(request.user, show_all)[:100],
        "show_all": show_all, "nowhere": scope_of(request.user).nowhere,
        "panels": panels.for_console(request)})


@login_required
def console_queue(request: HttpRequest) -> HttpResponse:
    """The live part of the console, fetched every two seconds."""
    access_console(request.user)
    return render(request, "incidents/_queue.html", {
        "incidents": queries.console_queue(request.user, request.GET.get("all") == "1")[:100]})


def after_report(request: HttpRequest, incident_id: int) -> HttpResponse:
    """After staff saved a report: its incident, or the console when the place lies outside
    the zones they work in (the dispatchers of that zone see it)."""
    if incidents_in_scope(request.user).filter(pk=incident_id).exists():
        return redirect("incident", incident_id=incident_id)
    messages.info(request, _("The place lies outside the zones you work in: the dispatchers "
                             "who work there see the report."))
    return redirect("console")


def timeline_of(incident: Incident) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="incident", object_id=incident.pk)
                .select_related("actor"))


def _incident_context(incident: Incident, user: Any) -> dict[str, Any]:
    annotated = queries.with_counts(Incident.objects.filter(pk=incident.pk)).get()
    alerts = list(incident.alerts.select_related("message"))
    counts: dict[str, int] = {}
    for row in (Delivery.objects.filter(message_id__in=[a.message_id for a in alerts])
                .values("status").annotate(n=Count("id"))):
        counts[row["status"]] = row["n"]
    lat, lng = geo.center(incident.cell)
    reports = list(incident.reports.all())
    return {
        "incident": annotated,
        "corroboration": queries.corroborations(annotated),
        "reports": reports,
        "verifications": list(incident.verifications.select_related("verifier")),
        "requests": list(incident.verification_requests.select_related("verifier__user")),
        "timeline": timeline_of(incident),
        "alerts": alerts,
        "delivery_counts": [(Status(s).label, counts.get(s, 0)) for s in Status.values],
        "map_json": json.dumps({"lat": lat, "lng": lng,
                                "boundary": geo.boundary(incident.cell)}),
        # What reporters wrote of the place, offered to staff for the cross streets.
        "reported_places": list(dict.fromkeys(r.location_text.strip()[:120] for r in reports
                                              if r.location_text.strip())),
        # For the phone's own map app (the verifier's page): the middle of the cell.
        "place": {"lat": f"{lat:.5f}", "lng": f"{lng:.5f}",
                  "reported": next((r.location_text for r in reversed(reports)
                                    if r.location_text), "")},
        "outcomes": Outcome.choices,
        "previews": queries.previews_for(incident),
        "sms_threads": hotline.threads_for_incident(incident.pk),
        "cents": settings.SMS_SEGMENT_COST_CENTS,
        "surge_verifiers": settings.SURGE_VERIFIERS_PER_REQUEST,
        "unverified_states": UNVERIFIED_STATES,
        "can": transitions.possible(incident),
        # Why this person could not confirm (shown instead of the choice), if so.
        "confirm_refusal": (actions.finding_refusal(incident, user, Outcome.CONFIRMED)
                            if transitions.allowed(incident, Step.RECORD_FINDING) else None),
    }


@login_required
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    access_console(request.user)
    incident = access_incident(request.user, incident_id)
    context = _incident_context(incident, request.user)
    context["panels"] = panels.for_incident(request, incident)
    return render(request, "incidents/incident.html", context)


@login_required
def incident_timeline(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The live part of the incident page: its timeline, fetched every few seconds."""
    access_console(request.user)
    incident = access_incident(request.user, incident_id)
    return render(request, "incidents/_timeline.html", {
        "incident": incident, "timeline": timeline_of(incident)})




def _run(request: HttpRequest, incident: Incident, action: Any, *args: Any) -> bool:
    """Run an action; on failure show why and return False."""
    try:
        action(incident, *args)
    except (actions.TransitionError, InvalidInput) as exc:
        flash_failure(request, exc)
        return False
    return True


#: The console's actions that send members a message, with the step they take.
SENDING_ACTIONS = {"resolve": (Step.RESOLVE, actions.do_resolve),
                   "correction": (Step.CORRECT, actions.do_send_correction)}


def _refused(request: HttpRequest, incident: Incident, template: str,
             exc: actions.FindingRefused) -> HttpResponse:
    """The page again, saying why this person's finding does not count (403)."""
    context = _incident_context(incident, request.user)
    context["error"] = str(exc)
    return render(request, template, context, status=403)


@login_required
@require_POST
def incident_action(request: HttpRequest, incident_id: int, name: str) -> HttpResponse:
    access_console(request.user)
    incident = access_incident(request.user, incident_id)
    sending = request.POST.get("send") == "1"
    if name == "request-verification":
        try:
            asked = actions.do_request_verification(incident, request.user)
        except actions.TransitionError as exc:
            flash_failure(request, exc)
        else:
            _say_who_was_asked(request, incident, len(asked))
    elif name in SENDING_ACTIONS:
        step, action = SENDING_ACTIONS[name]
        if not sending:
            try:
                actions.check_step(incident, step)
            except actions.TransitionError as exc:
                flash_failure(request, exc)
            else:
                return send_preview(request, incident, step)
        else:
            _run(request, incident, action, request.user)
    elif name == "place":
        _run(request, incident, actions.do_set_cross_streets,
             request.POST.get("cross_streets", ""), request.user)
    elif name == "outcome":
        outcome, notes = request.POST.get("outcome", ""), request.POST.get("notes", "")
        try:
            if outcome == Outcome.CONFIRMED and not sending:
                actions.check_finding(incident, request.user, outcome, notes)
                return send_preview(request, incident, Step.CONFIRM, notes=notes)
            actions.do_record_verification(incident, request.user,  # type: ignore[arg-type]
                                           outcome, notes)
        except actions.FindingRefused as exc:
            return _refused(request, incident, "incidents/incident.html", exc)
        except (actions.TransitionError, InvalidInput) as exc:
            flash_failure(request, exc)
    else:
        return HttpResponse(status=404)
    return redirect("incident", incident_id=incident.pk)


def _say_who_was_asked(request: HttpRequest, incident: Incident, asked: int) -> None:
    messages.success(request, _("Verification requested."))
    if asked:
        messages.info(request, ngettext("%(n)s on-call verifier of this zone was asked.",
                                        "%(n)s on-call verifiers of this zone were asked.",
                                        asked) % {"n": asked})
    elif incident.verification_requests.exists():
        messages.info(request, _("Every on-call verifier of this zone has been asked "
                                 "already."))
    else:
        messages.warning(request, _("No on-call verifier works this incident's zone: nobody "
                                    "was asked."))


@login_required
def verify_list(request: HttpRequest) -> HttpResponse:
    access_role(request.user, VERIFY_ROLES)
    incidents = queries.with_counts(incidents_to_verify(request.user)
                                    ).order_by("-last_report_at")[:50]
    return render(request, "incidents/verify_list.html", {"incidents": incidents})


@login_required
def verify(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access_incident_for_verification(request.user, incident_id)
    if request.method == "POST":
        outcome, notes = request.POST.get("outcome", ""), request.POST.get("notes", "")
        try:
            if outcome == Outcome.CONFIRMED and request.POST.get("send") != "1":
                actions.check_finding(incident, request.user, outcome, notes)
                return send_preview(request, incident, Step.CONFIRM, notes=notes)
            actions.do_record_verification(
                incident, request.user,  # type: ignore[arg-type]  # signed in
                outcome, notes)
        except actions.FindingRefused as exc:
            return _refused(request, incident, "incidents/verify.html", exc)
        except (actions.TransitionError, InvalidInput) as exc:
            text = (" ".join(exc.errors.values()) if isinstance(exc, InvalidInput)
                    else str(exc))
            context = _incident_context(incident, request.user)
            context["error"] = text
            return render(request, "incidents/verify.html", context, status=400)
        messages.success(request, _("Thank you. Your finding is recorded."))
        return redirect("verify", incident_id=incident.pk)
    return render(request, "incidents/verify.html", _incident_context(incident, request.user))


def send_preview(request: HttpRequest, incident: Incident, step: Step, *,
                 notes: str = "") -> HttpResponse:
    """The second step of a step that sends members a message: exactly what would go out,
    in every language, to how many members on which channels, at what SMS cost, and the
    same form once more (send=1) to go ahead. Posts back to where the first step went."""
    kind = transitions.TABLE[step].sends
    required = settings.VERIFICATIONS_REQUIRED
    with_mine = actions.confirmations_with(incident, request.user) if step == Step.CONFIRM else 0
    verify_page = request.resolver_match is not None and request.resolver_match.url_name == "verify"
    preview = queries.preview_of(incident, kind)
    return render(request, "incidents/send_preview.html", {
        "incident": incident, "step": step.value, "preview": preview, "previews": [preview],
        "channels": [(Channel(c).label if c in Channel.values else c, n)
                     for c, n in preview.by_channel.items()],
        "member_languages": sorted(preview.by_language.items()),
        "cents": settings.SMS_SEGMENT_COST_CENTS,
        "surge_verifiers": settings.SURGE_VERIFIERS_PER_REQUEST,
        "unverified_states": UNVERIFIED_STATES,
        "sends_now": step != Step.CONFIRM or with_mine >= required,
        "with_mine": with_mine, "required": required,
        "fields": {"outcome": Outcome.CONFIRMED, "notes": notes} if step == Step.CONFIRM else {},
        "back": reverse("verify" if verify_page else "incident", args=[incident.pk]),
    })


@login_required
def phone_report(request: HttpRequest) -> HttpResponse:
    """A dispatcher types in a report taken on the hotline."""
    access_console(request.user)
    if request.method == "POST":
        data: dict[str, Any] = request.POST.dict()
        data["language"] = data.get("report_language") or get_language() or "en"
        data["is_drill"] = request.POST.get("is_drill") == "on"
        try:
            report_input = actions.build_report_input(data)
        except InvalidInput as exc:
            return render(request, "incidents/phone_report.html",
                          report_context(request, errors=exc.errors), status=400)
        report = actions.do_submit_report(report_input, source=Source.PHONE,
                                          actor=request.user)
        messages.success(request, _("Report saved."))
        return after_report(request, report.incident_id)
    return render(request, "incidents/phone_report.html", report_context(request, errors={}))
