"""A member's own settings page, at /me/ (signing in: signin.py). There they change their
language, channels and places, subscribe this browser to push alerts, and leave."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from rapidresponse.channels.push import subscriptions, vapid
from rapidresponse.lib import ratelimit
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members import actions as member_actions
from rapidresponse.members.contacts import kind_of
from rapidresponse.members.models import (
    MAX_WATCH_AREAS,
    WATCH_LABELS,
    Channel,
    Member,
)
from rapidresponse.membership.actions import do_update_settings
from rapidresponse.membership.forms import build_settings_input
from rapidresponse.membership.signin import (
    do_check_sign_in,
    do_start_sign_in,
    sign_in,
    sign_out,
    signed_in_member,
)
from rapidresponse.zones.queries import neighbourhoods

MAX_SUBSCRIPTION_BYTES = 4096
#: A response header the service worker reads: "skip" means do not keep this page offline.
OFFLINE_HEADER = "X-RR-Offline"


# --- changing settings --------------------------------------------------------------------


# --- pages --------------------------------------------------------------------------------


def _contacts_view(member: Member) -> list[dict[str, Any]]:
    rows = []
    for contact in member.contacts.order_by("kind"):
        if not contact.value_encrypted:
            continue
        rows.append({"kind": contact.kind, "label": Channel(contact.kind).label,
                     "masked": contact.masked, "enabled": contact.enabled,
                     "confirmed": contact.verified_at is not None,
                     "broken": contact.disabled_at is not None})
    return rows


def _form_values(member: Member, post: Any | None) -> dict[str, Any]:
    areas = list(member.watch_areas.order_by("id"))
    if post is None:
        return {
            "name": member.name, "language": member.language,
            "channels": [c.kind for c in member.contacts.all() if c.enabled],
            "areas": [{"id": a.pk, "label": a.label, "radius": a.radius_m, "remove": False}
                      for a in areas],
            "new": {"label": "home", "zone": "", "latitude": "", "longitude": "",
                    "radius": "1000"},
            "signal": "", "can_witness": member.can_witness,
        }
    return {
        "name": post.get("name", ""), "language": post.get("language", member.language),
        "channels": post.getlist("channels"),
        "areas": [{"id": a.pk, "label": post.get(f"label_{a.pk}", a.label),
                   "radius": post.get(f"radius_{a.pk}", a.radius_m),
                   "remove": post.get(f"remove_{a.pk}") == "yes"} for a in areas],
        "new": {"label": post.get("label_new", "home"), "zone": post.get("zone_new", ""),
                "latitude": post.get("latitude_new", ""),
                "longitude": post.get("longitude_new", ""),
                "radius": post.get("radius_new") or "1000"},
        "signal": post.get("signal", ""),
        "can_witness": post.get("can_witness") == "yes",
    }


def _settings_page(request: HttpRequest, member: Member, *, errors: dict[str, str] | None = None,
                   post: Any | None = None, status: int = 200) -> HttpResponse:
    # Neighbourhoods to choose from, as on the sign-up page.
    zones = neighbourhoods()
    context = {
        "member": member, "contacts": _contacts_view(member), "errors": errors or {},
        "values": _form_values(member, post), "labels": WATCH_LABELS,
        "member_languages": settings.LANGUAGES, "zones": zones,
        "can_add_place": member.watch_areas.count() < MAX_WATCH_AREAS,
        "max_radius": settings.MAX_WATCH_RADIUS_M,
        "vapid_public_key": vapid.public_key_or_none(),
        **_push_context(member),
        **_signal_field(member),
    }
    return render(request, "membership/me_settings.html", context, status=status)


def _signal_field(member: Member) -> dict[str, Any]:
    kinds = {c.kind for c in member.contacts.all() if c.value_encrypted}
    if Channel.SIGNAL in kinds:
        label = _("Another number for Signal (optional)")
    elif Channel.SMS in kinds:
        label = _("Signal number, only if it is not your mobile phone")
    else:
        label = _("Signal number")
    return {"has_signal": Channel.SIGNAL in kinds, "signal_label": label}


def _push_context(member: Member) -> dict[str, Any]:
    """The member's browsers for the push section: the push services only, and for push.js
    a fingerprint of each to tell whether it runs in one of them."""
    contact = member.contacts.filter(kind=Channel.PUSH).first()
    browsers = subscriptions.browsers_of(contact)
    return {
        "push_browsers": len(browsers),
        "push_services": ", ".join(dict.fromkeys(b.host for b in browsers)),
        "push_fingerprints": " ".join(b.fingerprint for b in browsers),
        "push_enabled": contact is not None and contact.enabled,
        "max_browsers": subscriptions.MAX_BROWSERS,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def me(request: HttpRequest) -> HttpResponse:
    """GET: the settings of the signed-in member, or the form to ask for a code.
    POST: send a code. The answer is the same whether or not the contact is on the list."""
    member = signed_in_member(request)
    if request.method == "GET":
        if member is not None:
            return _settings_page(request, member)
        response = render(request, "membership/me_signin.html", {
            "values": {}, "forget_offline": "signed-out" in request.GET})
        # The service worker keeps the last settings page for offline use: a sign-in form
        # shown because the session ran out must not replace it.
        response[OFFLINE_HEADER] = "skip"
        return response
    context: dict[str, Any] = {"values": request.POST}
    if not ratelimit.hit("signin", ratelimit.client_key(request), limit=10, window_s=600):
        context["error"] = _("Too many attempts. Wait a few minutes.")
        return render(request, "membership/me_signin.html", context, status=429)
    raw = request.POST.get("contact", "").strip()
    if not raw:
        context["error"] = _("Enter the phone number or email address you signed up with.")
        return render(request, "membership/me_signin.html", context, status=400)
    try:
        do_start_sign_in(kind_of(raw), raw)
    except ValidationError as exc:
        context["error"] = exc.messages[0]
        return render(request, "membership/me_signin.html", context, status=400)
    return render(request, "membership/me_code.html", {"contact": raw})


@never_cache
@require_POST
def me_code(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("contact", "").strip()
    if not ratelimit.hit("signin-code", ratelimit.client_key(request), limit=30,
                         window_s=600):
        return render(request, "membership/me_code.html", {
            "contact": raw, "error": _("Too many attempts. Wait a few minutes.")}, status=429)
    member = do_check_sign_in(kind_of(raw), raw, request.POST.get("code", "")) if raw else None
    if member is None:
        return render(request, "membership/me_code.html", {
            "contact": raw, "error": _("That code is not right, or it has expired.")},
            status=400)
    return sign_in(redirect("me"), member)


def signed_in_or_403(request: HttpRequest) -> Member | HttpResponse:
    member = signed_in_member(request)
    if member is None:
        return render(request, "membership/me_signin.html", {
            "values": {}, "error": _("Your sign-in has expired. Ask for a new code.")},
            status=403)
    return member


@never_cache
@require_POST
def me_save(request: HttpRequest) -> HttpResponse:
    member = signed_in_or_403(request)
    if isinstance(member, HttpResponse):
        return member
    try:
        data = build_settings_input(member, request.POST)
    except InvalidInput as exc:
        return _settings_page(request, member, errors=exc.errors, post=request.POST,
                              status=400)
    do_update_settings(member, data)
    messages.success(request, _("Your settings are saved."))
    if data.signal_number and member.contacts.filter(
            kind=Channel.SIGNAL, verified_at__isnull=True).exists():
        messages.info(request, _("We sent a link to your Signal number. Open it to get "
                                 "alerts on Signal."))
    return redirect("me")


@never_cache
@require_POST
def me_leave(request: HttpRequest) -> HttpResponse:
    member = signed_in_or_403(request)
    if isinstance(member, HttpResponse):
        return member
    if request.POST.get("confirm") != "yes":
        return _settings_page(request, member, errors={
            "leave": _("Tick the box to confirm that you want to stop all alerts.")},
            status=400)
    member_actions.do_opt_out(member)
    response = sign_out(redirect("left"))
    # This browser forgets the offline copy of the settings page and its push subscription.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@never_cache
@require_POST
def me_sign_out(request: HttpRequest) -> HttpResponse:
    # The page after signing out also removes this browser's offline copy (push.js).
    return sign_out(HttpResponseRedirect(reverse("me") + "?signed-out=1"))


def _json_error(errors: dict[str, str], status: int) -> JsonResponse:
    return JsonResponse({"errors": errors,
                         "error": " ".join(errors.values())}, status=status)


def _json_body(request: HttpRequest) -> Any:
    if request.content_type != "application/json":  # a form's body is read as the form
        raise InvalidInput({"subscription": _("Send the subscription as JSON.")})
    if len(request.body) > MAX_SUBSCRIPTION_BYTES:
        raise InvalidInput({"subscription": _("The subscription is too large.")})
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput({"subscription": _("Send the subscription as JSON.")}) from exc


@never_cache
@require_POST
def me_push_subscribe(request: HttpRequest) -> JsonResponse:
    """POST the browser's PushSubscription.toJSON(): this browser gets the member's push
    alerts too (the least recently subscribed of MAX_BROWSERS stops)."""
    member = signed_in_member(request)
    if member is None:
        return _json_error({"session": _("Your sign-in has expired. Ask for a new code.")}, 403)
    if vapid.public_key_or_none() is None:
        return _json_error({"push": _("Alerts in the browser are not available here.")}, 409)
    try:
        subscription = subscriptions.parse_subscription(_json_body(request))
    except InvalidInput as exc:
        return _json_error(exc.errors, 400)
    done = subscriptions.do_subscribe(member, subscription)
    for replaced in done.replaced:
        # push.js reloads the page, which shows this.
        messages.info(request, _(
            "Alerts are now on in this browser and off in the one where you turned them on "
            "longest ago (%(service)s): they go to at most %(max)s browsers.")
            % {"service": replaced.host, "max": subscriptions.MAX_BROWSERS})
    return JsonResponse({"ok": True, "channel": done.contact.kind, "browsers": done.browsers,
                         "replaced": len(done.replaced)}, status=201)


@never_cache
@require_POST
def me_push_unsubscribe(request: HttpRequest) -> HttpResponse:
    """JSON {endpoint}: stop alerts in this browser only. A plain form post: stop them in
    all of the member's browsers."""
    member = signed_in_member(request)
    as_json = request.content_type == "application/json"
    if member is None:
        if as_json:
            return _json_error({"session": _("Your sign-in has expired. Ask for a new code.")},
                               403)
        return signed_in_or_403(request)  # type: ignore[return-value]
    if not as_json:
        if subscriptions.do_unsubscribe(member):
            messages.success(request, _("Alerts are off in all your browsers."))
        return redirect("me")
    try:
        data = _json_body(request)
    except InvalidInput as exc:
        return _json_error(exc.errors, 400)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint.strip():
        return _json_error({"endpoint": _("The push endpoint is missing or too long.")}, 400)
    removed = subscriptions.do_unsubscribe(member, endpoint)
    return JsonResponse({"ok": True, "removed": removed})
