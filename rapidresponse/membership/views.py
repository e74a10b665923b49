"""Joining and leaving, on the public pages: the sign-up form, the code that confirms it, the
link that confirms a second contact, and leaving with a code."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rapidresponse.codes import actions as codes
from rapidresponse.lib import ratelimit
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members import actions as member_actions
from rapidresponse.members.contacts import kind_of
from rapidresponse.members.models import WATCH_LABELS, Channel
from rapidresponse.membership import actions
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import neighbourhoods


def _places_from_post(request: HttpRequest) -> tuple[list[member_actions.Place], str | None]:
    places: list[member_actions.Place] = []
    for i in range(1, 4):
        label = request.POST.get(f"label_{i}") or "home"
        if label not in dict(WATCH_LABELS):
            label = "other"
        lat, lng = request.POST.get(f"latitude_{i}"), request.POST.get(f"longitude_{i}")
        zone_id = request.POST.get(f"zone_{i}")
        radius = request.POST.get(f"radius_{i}") or 1000
        try:
            if lat and lng:
                places.append(member_actions.place_from_point(lat, lng, radius, label))
            elif zone_id:
                zone = Zone.objects.filter(pk=int(zone_id)).first() if zone_id.isdigit() else None
                if zone is None:
                    return places, _("Choose a neighbourhood from the list.")
                places.append(member_actions.place_from_zone(zone, radius, label))
        except ValidationError as exc:
            return places, exc.messages[0]
    return places, None


def _slot(request: HttpRequest, i: int) -> dict[str, Any]:
    """What was entered for place i, so that a form sent back with errors loses nothing."""
    post = request.POST if request.method == "POST" else {}
    return {"i": i, "label": post.get(f"label_{i}", ""), "zone": post.get(f"zone_{i}", ""),
            "latitude": post.get(f"latitude_{i}", ""), "longitude": post.get(f"longitude_{i}", ""),
            "radius": post.get(f"radius_{i}") or "1000"}


def join_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"zones": neighbourhoods(), "labels": WATCH_LABELS,
            # Not "languages": base.html sets that name for its language switch.
            "member_languages": settings.LANGUAGES,
            "values": request.POST if request.method == "POST" else {},
            "slots": [_slot(request, i) for i in (1, 2, 3)],
            "chosen_channels": (request.POST.getlist("channels") if request.method == "POST"
                                else [Channel.SMS]),
            "max_radius": settings.MAX_WATCH_RADIUS_M, **extra}


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "membership/join.html", join_context(request, errors={}))
    if not ratelimit.hit("join", ratelimit.client_key(request), limit=10, window_s=600):
        return render(request, "membership/join.html", join_context(
            request, errors={"form": _("Too many attempts. Wait a few minutes.")}),
            status=429)
    errors: dict[str, str] = {}
    if request.POST.get("consent") != "yes":
        errors["consent"] = _("Please agree to receive alerts.")
    places, place_error = _places_from_post(request)
    channels = [c for c in request.POST.getlist("channels") if c]
    try:
        data = member_actions.build_member_input(
            name=request.POST.get("name", ""),
            language=request.POST.get("language") or get_language(),
            phone=request.POST.get("phone", ""), email=request.POST.get("email", ""),
            signal=request.POST.get("signal", ""),
            channels=channels or None, places=places, place_error=place_error)
        data.can_witness = request.POST.get("can_witness") == "yes"
    except InvalidInput as exc:
        errors.update(exc.errors)
    if (request.POST.get("signal", "").strip() and channels and Channel.SIGNAL not in channels
            and "signal" not in errors):
        errors["signal"] = _("Tick Signal as well to get alerts on this Signal number.")
    if errors:
        return render(request, "membership/join.html", join_context(request, errors=errors),
                      status=400)
    code = actions.do_start_signup(data)
    return redirect("confirm_code", code_id=code.public_id)


@require_http_methods(["GET", "POST"])
def confirm_code(request: HttpRequest, code_id: str) -> HttpResponse:
    record = codes.live_code(code_id, actions.PAGE_PURPOSES)
    if record is None:
        return render(request, "membership/code.html", {"expired": True}, status=404)
    context: dict[str, Any] = {"purpose": record.purpose, "code_id": code_id,
                               "channel": record.channel}
    if request.method == "POST":
        member = actions.do_confirm_code(code_id, request.POST.get("code", ""))
        if member is None:
            context["error"] = _("That code is not right, or it has expired.")
            return render(request, "membership/code.html", context, status=400)
        return redirect("joined" if record.purpose == actions.JOIN.name else "left")
    return render(request, "membership/code.html", context)


def confirm_contact(request: HttpRequest, token: str) -> HttpResponse:
    contact = actions.do_confirm_contact(token)
    if contact is None:
        return render(request, "membership/code.html", {"expired": True}, status=404)
    return render(request, "membership/done.html", {"joined": True})


def joined(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/done.html", {"joined": True})


def left(request: HttpRequest) -> HttpResponse:
    return render(request, "membership/done.html", {"joined": False})


@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest) -> HttpResponse:
    """Ask for a code to stop all alerts. The answer is the same whether or not the
    number is on the list, so this page cannot be used to find out who is a member."""
    context: dict[str, Any] = {"values": request.POST}
    if request.method == "GET":
        return render(request, "membership/leave.html", context)
    if not ratelimit.hit("leave", ratelimit.client_key(request), limit=10, window_s=600):
        context["error"] = _("Too many attempts. Wait a few minutes.")
        return render(request, "membership/leave.html", context, status=429)
    raw = request.POST.get("contact", "").strip()
    if not raw:
        context["error"] = _("Enter the phone number or email address you signed up with.")
        return render(request, "membership/leave.html", context, status=400)
    kind = kind_of(raw)
    try:
        actions.do_start_leave(kind, raw)
    except ValidationError as exc:
        context["error"] = exc.messages[0]
        return render(request, "membership/leave.html", context, status=400)
    return render(request, "membership/leave_code.html", {"contact": raw})


@require_http_methods(["POST"])
def leave_confirm(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("contact", "").strip()
    kind = kind_of(raw)
    member = None
    try:
        member = actions.do_confirm_leave(kind, raw, request.POST.get("code", ""))
    except ValidationError:
        member = None
    if member is None:
        return render(request, "membership/leave_code.html", {
            "contact": raw, "error": _("That code is not right, or it has expired.")},
            status=400)
    return redirect("left")
