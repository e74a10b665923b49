"""The console's dispatch and witness forms (on the incident page) and the responder's
buttons (on /responder/): plain forms, they work without JavaScript."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from rapidresponse.accounts.access import access_console
from rapidresponse.dispatch import actions, witnesses
from rapidresponse.dispatch.access import access_own_assignment
from rapidresponse.incidents.access import access_incident
from rapidresponse.lib.errors import InvalidInput, flash_failure


def _to_panel(incident_id: int) -> HttpResponse:
    return redirect(reverse("incident", args=[incident_id]) + "#panel-dispatch")


@login_required
@require_POST
def dispatch_new(request: HttpRequest, incident_id: int) -> HttpResponse:
    access_console(request.user)
    incident = access_incident(request.user, incident_id)
    try:
        dispatch = actions.do_request_dispatch(incident, request.POST.get("skill"),
                                               request.POST.get("count"), request.user)
    except (actions.NotNow, InvalidInput) as exc:
        flash_failure(request, exc)
    else:
        asked = dispatch.assignments.count()
        if asked:
            messages.success(request, ngettext("%(n)s person was asked to go.",
                                               "%(n)s people were asked to go.", asked)
                             % {"n": asked})
        else:
            messages.warning(request, _("Nobody who can go was found, even at the widest "
                                        "radius."))
    return _to_panel(incident.pk)


@login_required
@require_POST
def witnesses_new(request: HttpRequest, incident_id: int) -> HttpResponse:
    access_console(request.user)
    incident = access_incident(request.user, incident_id)
    try:
        _request, asked = witnesses.do_request_witnesses(
            incident, request.POST.get("radius_m"), request.POST.get("cap"), request.user)
    except (actions.NotNow, InvalidInput) as exc:
        flash_failure(request, exc)
    else:
        messages.success(request, ngettext("%(n)s witness was asked.",
                                           "%(n)s witnesses were asked.", asked)
                         % {"n": asked})
    return _to_panel(incident.pk)


#: The responder's buttons and what each does.
RESPONDER_ACTIONS = {
    "accept": actions.do_accept,
    "decline": actions.do_decline,
    "check-in": actions.do_check_in,
    "check-out": actions.do_check_out,
}


@login_required
@require_POST
def responder_action(request: HttpRequest, dispatch_id: int, action: str) -> HttpResponse:
    act = RESPONDER_ACTIONS.get(action)
    if act is None:
        raise Http404
    assignment = access_own_assignment(request.user, dispatch_id)
    try:
        done = act(assignment, "web")
    except actions.NotNow as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved: %(status)s.") % {
            "status": done.get_status_display()})
    return redirect(reverse("responder_me") + "#dispatches")
