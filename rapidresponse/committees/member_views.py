"""The member's side: a committee's public page (its name, zone and languages, and a way
to join), and /me/committees/ where a signed-in member joins and leaves the committees of
their zones (the member's cookie lives under /me/, so joining happens there)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rapidresponse.committees import actions
from rapidresponse.committees.access import committees_near
from rapidresponse.committees.models import Committee, CommitteeMember
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.membership.me_views import signed_in_or_403
from rapidresponse.membership.signin import signed_in_member


def _committee(code: str) -> Committee:
    found = Committee.objects.select_related("zone").filter(code=code.upper()).first()
    if found is None:
        raise Http404
    return found


@require_GET
def public(request: HttpRequest, code: str) -> HttpResponse:
    return render(request, "committees/public.html", {"committee": _committee(code)})


@never_cache
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    member = signed_in_member(request)
    if member is None:
        return redirect("me")
    joined = {row.committee_id: row for row in
              CommitteeMember.objects.filter(member=member).select_related("committee")}
    near = [c for c in committees_near(member).order_by("name") if c.pk not in joined]
    wanted = request.GET.get("join", "").upper()
    return render(request, "committees/me.html", {
        "member": member, "joined": list(joined.values()), "near": near,
        "wanted": Committee.objects.filter(code=wanted).exclude(pk__in=list(joined)).first()
        if wanted else None})


@never_cache
@require_POST
def join(request: HttpRequest, code: str) -> HttpResponse:
    member = signed_in_or_403(request)
    if isinstance(member, HttpResponse):
        return member
    try:
        actions.do_join(_committee(code), member)
    except InvalidInput:
        return HttpResponse(status=400)
    return redirect("me_committees")


@never_cache
@require_POST
def leave(request: HttpRequest, code: str) -> HttpResponse:
    member = signed_in_or_403(request)
    if isinstance(member, HttpResponse):
        return member
    actions.do_leave(_committee(code), member)
    return redirect("me_committees")
