"""Public pages: home, report, map, know your rights, join and leave."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rapidresponse.alerts.vocabulary import Activity
from rapidresponse.incidents import actions as incident_actions
from rapidresponse.incidents import queries
from rapidresponse.incidents.forms import report_context
from rapidresponse.incidents.models import Source
from rapidresponse.lib import geo, net, ratelimit
from rapidresponse.lib.errors import InvalidInput

REPORTER_COOKIE = "rr_reporter"


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"recent": queries.public_incidents()[:5]})


def know_your_rights(request: HttpRequest) -> HttpResponse:
    return render(request, "web/rights.html")


def public_map(request: HttpRequest) -> HttpResponse:
    incidents = [queries.public_view(i) for i in queries.public_incidents()[:200]]
    features = [
        {"id": i["id"], "area": i["area"],
         "boundary": geo.boundary(geo.parent(int(i["cell"], 16), settings.H3_PUBLIC_RESOLUTION)),
         "activity": str(Activity(i["activity"]).label)}
        for i in incidents]
    return render(request, "web/map.html", {"incidents": incidents,
                                            "features_json": json.dumps(features)})


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/report.html", report_context(request, errors={}))
    if not ratelimit.hit("report", ratelimit.client_key(request), limit=30, window_s=600):
        return render(request, "web/report.html", report_context(
            request, errors={"form": _("Too many reports from here. Call the hotline.")}),
            status=429)
    data: dict[str, Any] = request.POST.dict()
    data["language"] = get_language() or "en"
    # The browser's token, made now on a first report so that this report and the
    # browser's next ones count as one reporter.
    token = request.COOKIES.get(REPORTER_COOKIE) or incident_actions.new_reporter_token()
    data["reporter_token"] = token
    data["is_drill"] = False
    try:
        report_input = incident_actions.build_report_input(data)
    except InvalidInput as exc:
        return render(request, "web/report.html", report_context(request, errors=exc.errors),
                      status=400)
    report_input.network = net.client_network(request)
    incident_actions.do_submit_report(report_input, source=Source.WEB, actor=None)
    response = redirect("report_thanks")
    if not request.COOKIES.get(REPORTER_COOKIE):
        response.set_cookie(REPORTER_COOKIE, token,
                            max_age=60 * 60 * 24 * 30, httponly=True, samesite="Lax",
                            secure=settings.SESSION_COOKIE_SECURE)
    return response


def report_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "web/report_thanks.html")
