"""The staff pages of committees: the list, a committee (members, area, plan), the plan's
versions, its print page, and the tags page. Plain HTML forms; out of scope is 404."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapidresponse.accounts.access import members_in_scope, scope_of
from rapidresponse.committees import actions
from rapidresponse.committees.access import (
    access_committee,
    committees_in_scope,
    organiser,
    organiser_zones,
    tag_manager,
    tags_in_scope,
)
from rapidresponse.committees.messages import do_send_plan
from rapidresponse.committees.models import Committee, CommitteeMember, PlanVersion, Role
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.actions import MAX_TAG_LENGTH, tag_named
from rapidresponse.members.models import MemberTag

LANGUAGE_NAMES = dict(settings.LANGUAGES)


@login_required
@require_http_methods(["GET", "POST"])
def committees(request: HttpRequest) -> HttpResponse:
    staff = organiser(request.user)
    zones = organiser_zones(request.user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        zone = next((z for z in zones if str(z.pk) == request.POST.get("zone")), None)
        try:
            committee = actions.do_create_committee(
                name=request.POST.get("name"), zone=zone,
                languages=request.POST.getlist("languages"), actor=staff)
        except InvalidInput as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Committee created."))
            return redirect("committee", committee.pk)
    rows = committees_in_scope(request.user).order_by("zone__name", "name")
    return render(request, "committees/list.html", {
        "rows": rows, "zones": zones, "errors": errors, "form": request.POST,
        "language_choices": settings.LANGUAGES}, status=400 if errors else 200)


def _committee_page(request: HttpRequest, committee: Committee, *,
                    errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    rows = (CommitteeMember.objects.filter(committee=committee)
            .select_related("member").order_by("role", "joined_at"))
    return render(request, "committees/committee.html", {
        "committee": committee, "rows": rows, "roles": Role.choices,
        "cells": committee.cells.count(), "plan": actions.current_plan(committee),
        "versions": committee.plans.select_related("author__user").order_by("-number"),
        "language_names": [LANGUAGE_NAMES.get(c, c) for c in committee.languages],
        "errors": errors or {}, "form": request.POST}, status=status)


@login_required
@require_GET
def committee(request: HttpRequest, committee_id: int) -> HttpResponse:
    _staff, found = access_committee(request.user, committee_id)
    return _committee_page(request, found)


@login_required
@require_POST
def area(request: HttpRequest, committee_id: int) -> HttpResponse:
    staff, found = access_committee(request.user, committee_id)
    try:
        n = actions.do_set_area(found, latitude=request.POST.get("latitude"),
                                longitude=request.POST.get("longitude"),
                                radius_m=request.POST.get("radius_m"), actor=staff)
    except InvalidInput as exc:
        return _committee_page(request, found, errors=exc.errors, status=400)
    messages.success(request, _("The area has %(n)s cells.") % {"n": n})
    return redirect("committee", found.pk)


@login_required
@require_POST
def add_member(request: HttpRequest, committee_id: int) -> HttpResponse:
    staff, found = access_committee(request.user, committee_id)
    raw = request.POST.get("member_id", "")
    member = (members_in_scope(request.user).filter(pk=int(raw)).first()
              if raw.isdigit() else None)
    try:
        if member is None:
            raise InvalidInput({"member_id": _("No member with this number in your zones.")})
        actions.do_join(found, member, role=request.POST.get("role", Role.MEMBER),
                        actor=staff)
    except InvalidInput as exc:
        return _committee_page(request, found, errors=exc.errors, status=400)
    messages.success(request, _("Member added."))
    return redirect("committee", found.pk)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, committee_id: int) -> HttpResponse:
    staff, found = access_committee(request.user, committee_id)
    current = actions.current_plan(found)
    errors: dict[str, str] = {}
    if request.method == "POST":
        data: dict[str, Any] = {k: request.POST.get(k) for k in actions.PLAN_TEXT_FIELDS}
        data.update(phone_tree=request.POST.get("phone_tree"),
                    public_place=request.POST.get("public_place") == "on",
                    material_languages=request.POST.getlist("material_languages"))
        try:
            saved = actions.do_save_plan(found, data, actor=staff)
        except InvalidInput as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Version %(n)s of the plan saved.") % {
                "n": saved.number})
            return redirect("committee", found.pk)
    values: dict[str, Any] = dict(request.POST.items()) if request.method == "POST" else (
        {**{k: getattr(current, k) for k in actions.PLAN_TEXT_FIELDS},
         "phone_tree": "\n".join(current.phone_tree),
         "material_languages": current.material_languages} if current else {})
    if request.method == "POST":
        values["material_languages"] = request.POST.getlist("material_languages")
    return render(request, "committees/plan_form.html", {
        "committee": found, "values": values, "errors": errors,
        "language_choices": settings.LANGUAGES}, status=400 if errors else 200)


def _plan_context(committee: Committee, plan: PlanVersion | None) -> dict[str, Any]:
    return {"committee": committee, "plan": plan,
            "material_languages": [LANGUAGE_NAMES.get(c, c)
                                   for c in (plan.material_languages if plan else [])]}


@login_required
@require_GET
def plan_version(request: HttpRequest, committee_id: int, number: int) -> HttpResponse:
    _staff, found = access_committee(request.user, committee_id)
    plan = found.plans.select_related("author__user").filter(number=number).first()
    if plan is None:
        raise Http404
    return render(request, "committees/plan_version.html", _plan_context(found, plan))


@login_required
@require_GET
def plan_print(request: HttpRequest, committee_id: int) -> HttpResponse:
    _staff, found = access_committee(request.user, committee_id)
    return render(request, "committees/plan_print.html",
                  _plan_context(found, actions.current_plan(found)))


@login_required
@require_POST
def plan_send(request: HttpRequest, committee_id: int) -> HttpResponse:
    staff, found = access_committee(request.user, committee_id)
    n = do_send_plan(found, staff)
    messages.success(request, _("The plan is on its way to %(n)s members.") % {"n": n})
    return redirect("committee", found.pk)


@login_required
@require_http_methods(["GET", "POST"])
def tags(request: HttpRequest) -> HttpResponse:
    """Coordinators' tags: those of their zones and the network's, with how many members
    (of their zones) carry each; a new tag; taking a tag off everyone (deleting it)."""
    tag_manager(request.user)
    visible = tags_in_scope(request.user)
    zones = organiser_zones(request.user)
    error = ""
    if request.method == "POST":
        if request.POST.get("delete", "").isdigit():
            mine = visible if scope_of(request.user).network_wide else visible.filter(
                zone__isnull=False)
            mine.filter(pk=int(request.POST["delete"])).delete()
            return redirect("tags")
        name = " ".join(request.POST.get("name", "").split())
        zone = next((z for z in zones if str(z.pk) == request.POST.get("zone")), None)
        if not name or len(name) > MAX_TAG_LENGTH:
            error = _("A tag has a name of at most %(n)s characters.") % {"n": MAX_TAG_LENGTH}
        elif zone is None and (request.POST.get("zone") or not scope_of(request.user)
                               .network_wide):
            error = _("Choose one of your zones.")
        else:
            tag_named(name, zone)
            return redirect("tags")
    in_scope = members_in_scope(request.user).values("pk")
    rows = [(t, MemberTag.objects.filter(tag=t, member__in=in_scope).count())
            for t in visible.order_by("name")]
    return render(request, "committees/tags.html", {
        "rows": rows, "zones": zones, "error": error}, status=400 if error else 200)
