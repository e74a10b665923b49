"""Family support's pages: the cases list, a case, the partner directory, and the forms of
the incident page's panel. Everything is plain HTML forms (no JavaScript needed). Whoever
may not see a page gets 404 (access.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapidresponse.accounts.access import CONSOLE_ROLES, has_role, scope_of
from rapidresponse.accounts.access import staff_of as signed_in_staff
from rapidresponse.accounts.models import Staff
from rapidresponse.incidents.access import access_incident
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.responders.models import SPOKEN_LANGUAGES
from rapidresponse.support import actions
from rapidresponse.support.access import (
    access_case,
    access_partner,
    cases_in_scope,
    may_see_case,
    partner_manager,
    partner_zones,
    supporter,
)
from rapidresponse.support.models import CaseStatus, Detention, Need, NeedState, Partner
from rapidresponse.support.panels import form_context
from rapidresponse.support.queries import (
    decrypt_or_blank,
    name_of,
    notes_of,
    serving,
    suggestions,
    volunteers_for,
)
from rapidresponse.zones.models import Zone

LANGUAGE_NAMES = dict(SPOKEN_LANGUAGES)
NEED_NAMES = dict(Need.choices)


def _console_staff(request: HttpRequest) -> Staff:
    staff = signed_in_staff(request.user)
    if staff is None or not has_role(request.user, CONSOLE_ROLES):
        raise Http404
    return staff


# --- the incident page's panel -----------------------------------------------------------


@login_required
@require_POST
def detention(request: HttpRequest, incident_id: int) -> HttpResponse:
    staff = _console_staff(request)
    incident = access_incident(request.user, incident_id)
    try:
        actions.do_record_detention(incident, staff, people=request.POST.get("people"),
                                    detained_at=request.POST.get("detained_at"),
                                    notes=request.POST.get("notes"))
    except InvalidInput as exc:
        return render(request, "support/detention_form.html",
                      {"panel": form_context(request, incident), "errors": exc.errors,
                       "form": request.POST}, status=400)
    messages.success(request, _("Detention recorded."))
    return redirect(reverse("incident", args=[incident.pk]) + "#panel-family-support")


@login_required
@require_POST
def open_case(request: HttpRequest, detention_id: int) -> HttpResponse:
    staff = _console_staff(request)
    found = Detention.objects.filter(pk=detention_id).values_list("incident_id", flat=True)
    if not found:
        raise Http404
    incident = access_incident(request.user, found[0])
    record = Detention.objects.get(pk=detention_id)
    try:
        case = actions.do_open_case(record, staff, consent=request.POST.get("consent") == "on",
                                    language=request.POST.get("language"),
                                    needs=request.POST.getlist("needs"),
                                    contact=request.POST.get("contact"))
    except InvalidInput as exc:
        return render(request, "support/detention_form.html",
                      {"panel": form_context(request, incident), "errors": exc.errors,
                       "form": request.POST, "detention_id": record.pk}, status=400)
    messages.success(request, _("Support case #%(id)s opened.") % {"id": case.pk})
    if may_see_case(staff, case):
        return redirect("support_case", case.pk)
    return redirect(reverse("incident", args=[incident.pk]) + "#panel-family-support")


# --- cases -----------------------------------------------------------------------------


@login_required
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    staff = supporter(request.user)
    mine = request.GET.get("show") == "mine"
    qs = cases_in_scope(staff)
    if mine:
        qs = qs.filter(assigned=staff)
    rows = sorted(qs, key=lambda c: (c.status == CaseStatus.CLOSED,
                                     c.follow_up_on is None, c.follow_up_on, c.pk))
    return render(request, "support/cases.html", {
        "rows": [{"case": c, "open_needs": [str(NEED_NAMES[n]) for n, s in c.needs.items()
                                            if s == NeedState.OPEN and n in NEED_NAMES],
                  "assigned": name_of(c.assigned)} for c in rows],
        "mine": mine})


def _case_page(request: HttpRequest, staff: Staff, case: Any, *, errors: dict[str, str]
               | None = None, status: int = 200) -> HttpResponse:
    return render(request, "support/case.html", {
        "case": case, "staff": staff,
        "needs": [{"need": n.value, "label": n.label, "state": case.needs.get(n.value, "")}
                  for n in Need],
        "need_states": NeedState.choices,
        "suggestions": suggestions(case), "notes": notes_of(case),
        "volunteers": [(v.pk, name_of(v)) for v in volunteers_for(case)],
        "assigned": name_of(case.assigned), "statuses": CaseStatus.choices,
        "contact": decrypt_or_blank(case.contact_encrypted),
        "detention": case.detention, "language": LANGUAGE_NAMES.get(case.language,
                                                                    case.language),
        "consent_by": name_of(case.consent_by),
        "incident_visible": has_role(request.user, CONSOLE_ROLES),
        "errors": errors or {}}, status=status)


@login_required
@require_GET
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    staff, found = access_case(request.user, case_id)
    return _case_page(request, staff, found)


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: int, name: str) -> HttpResponse:
    staff, found = access_case(request.user, case_id)
    post = request.POST
    try:
        if name == "needs":
            actions.do_set_needs(found, staff, {n: post.get(f"need_{n}", "")
                                                for n in actions.NEEDS})
        elif name == "note":
            actions.do_add_note(found, staff, post.get("note"))
        elif name == "status":
            actions.do_set_status(found, staff, post.get("status"))
        elif name == "assign":
            actions.do_assign(found, staff, post.get("assigned"))
        elif name == "follow-up":
            actions.do_set_follow_up(found, staff, post.get("follow_up_on"))
        elif name == "contact":
            actions.do_set_contact(found, staff, post.get("contact"))
        else:
            raise Http404
    except InvalidInput as exc:
        found.refresh_from_db()
        return _case_page(request, staff, found, errors=exc.errors, status=400)
    messages.success(request, _("Saved."))
    return redirect("support_case", found.pk)


# --- partner organisations -------------------------------------------------------------


def _partner_form(staff: Staff | None) -> dict[str, Any]:
    return {"needs": list(Need), "spoken": SPOKEN_LANGUAGES,
            "zones": partner_zones(staff) if staff is not None else [],
            "network_wide": staff is not None and scope_of(staff.user).network_wide}


def _save_partner(request: HttpRequest, staff: Staff, partner: Partner | None) -> Partner:
    zones = {z.pk: z for z in partner_zones(staff)}
    raw = request.POST.get("zone", "")
    zone: Zone | None = zones.get(int(raw)) if raw.isdigit() else None
    return actions.do_save_partner(
        partner, name=request.POST.get("name"), services=request.POST.getlist("services"),
        languages=request.POST.getlist("languages"), zone=zone,
        zone_required=not scope_of(staff.user).network_wide,
        phone=request.POST.get("phone"), url=request.POST.get("url"))


@login_required
@require_http_methods(["GET", "POST"])
def partners(request: HttpRequest) -> HttpResponse:
    staff = supporter(request.user)
    manager = staff if staff.role == "coordinator" else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        manager = partner_manager(request.user)
        try:
            _save_partner(request, manager, None)
        except InvalidInput as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Partner added."))
            return redirect("support_partners")
    qs = Partner.objects.select_related("zone")
    zone = Zone.objects.filter(pk=int(request.GET["zone"])).first() \
        if request.GET.get("zone", "").isdigit() else None
    if zone is not None:
        qs = qs.filter(serving(zone))
    service = request.GET.get("service", "")
    language = request.GET.get("language", "")
    rows = [p for p in qs if (not service or service in p.services)
            and (not language or language in p.languages)]
    editable = set(partner_zones(manager)) if manager is not None else set()
    return render(request, "support/partners.html", {
        "rows": [{"partner": p,
                  "services": [str(NEED_NAMES[s]) for s in p.services if s in NEED_NAMES],
                  "languages": [str(LANGUAGE_NAMES.get(code, code)) for code in p.languages],
                  "editable": manager is not None and (
                      (p.zone is None and scope_of(manager.user).network_wide)
                      or p.zone in editable)} for p in rows],
        "all_zones": Zone.objects.order_by("name"), "zone": zone, "service": service,
        "language": language, "manager": manager, "errors": errors,
        "form": request.POST if errors else {},
        "chosen_services": request.POST.getlist("services"),
        "chosen_languages": request.POST.getlist("languages"), **_partner_form(manager)},
        status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def partner(request: HttpRequest, partner_id: int) -> HttpResponse:
    staff, found = access_partner(request.user, partner_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            _save_partner(request, staff, found)
        except InvalidInput as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Partner saved."))
            return redirect("support_partners")
    form = request.POST if errors else {
        "name": found.name, "phone": found.phone, "url": found.url,
        "zone": str(found.zone_id or "")}
    return render(request, "support/partner.html", {
        "partner": found, "errors": errors, "form": form,
        "chosen_services": request.POST.getlist("services") if errors else found.services,
        "chosen_languages": request.POST.getlist("languages") if errors
        else found.languages, **_partner_form(staff)}, status=400 if errors else 200)


@login_required
@require_POST
def partner_delete(request: HttpRequest, partner_id: int) -> HttpResponse:
    _staff, found = access_partner(request.user, partner_id)
    actions.do_delete_partner(found)
    messages.success(request, _("Partner deleted."))
    return redirect("support_partners")
