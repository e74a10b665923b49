"""A member's own settings page, at /me/.

Members have no passwords. They ask for a one-time code by giving their phone or email (the
answer is the same whether or not they are on the list, as on /leave/); the code comes
through the outbox; entering it gives them a short-lived signed cookie that holds only their
member id. With it they can change their language, channels and places, subscribe this
browser to push alerts, and leave.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from rapidresponse.channels.push import subscriptions, vapid
from rapidresponse.channels.push.models import SignInCode
from rapidresponse.delivery import outbox
from rapidresponse.lib import crypto, geo, ratelimit
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members import actions as member_actions
from rapidresponse.members.contacts import find_contacts, kind_of
from rapidresponse.members.models import (
    MAX_WATCH_AREAS,
    WATCH_LABELS,
    Channel,
    ContactPoint,
    Member,
    WatchArea,
    language_codes,
)
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import neighbourhoods

COOKIE = "rr_member"
COOKIE_SALT = "rapidresponse.members.selfservice"
COOKIE_PATH = "/me/"
SESSION_AGE = timedelta(hours=1)
CODE_TTL = timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5
CODES_PER_CONTACT_PER_HOUR = 5
MAX_SUBSCRIPTION_BYTES = 4096
#: A response header the service worker reads: "skip" means do not keep this page offline.
OFFLINE_HEADER = "X-RR-Offline"


# --- signing in ---------------------------------------------------------------------------


def _code_bodies(code: str) -> dict[str, dict[str, str]]:
    minutes = int(CODE_TTL.total_seconds() // 60)
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            bodies[lang] = {
                "subject": _("Your code"),
                # Short: an SMS in Spanish is sent as UCS-2, 67 characters a segment.
                "text": _("%(network)s: your code for your alert settings is %(code)s "
                          "(valid %(minutes)s min). If you did not ask for it, ignore this.")
                % {"network": settings.NETWORK_NAME, "code": code, "minutes": minutes}}
    return bodies


def _usable_contact(kind: str, raw: str) -> ContactPoint | None:
    """The confirmed contact point of an active member, or None. Raises ValidationError.
    A phone number is the member's SMS contact or, failing that, their Signal contact."""
    return next((c for c in find_contacts(kind, raw)
                 if c.member.status == Member.Status.ACTIVE and c.verified_at is not None
                 and c.disabled_at is None and c.value_encrypted), None)


@transaction.atomic
def do_start_sign_in(kind: str, raw: str) -> SignInCode | None:
    """Send a sign-in code to a member's phone or email. None when there is no such member
    (the caller answers the same either way). Raises ValidationError for a bad value."""
    contact = _usable_contact(kind, raw)
    if contact is None:
        return None
    if not ratelimit.hit("signin-contact", contact.blind_index, CODES_PER_CONTACT_PER_HOUR,
                         3600):
        return None  # no flood of codes to one phone; the page still says the same
    now = timezone.now()
    SignInCode.objects.filter(member=contact.member, used_at__isnull=True).delete()
    SignInCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = SignInCode.objects.create(member=contact.member, contact=contact,
                                       code_hash=crypto.token_hash(code),
                                       expires_at=now + CODE_TTL)
    outbox.send_to_member(contact.member, "confirmation", _code_bodies(code),
                          channels=[contact.kind])
    return record


@transaction.atomic
def do_check_sign_in(kind: str, raw: str, code: str) -> Member | None:
    """The member whose code this is, once; None for a wrong, used or expired code."""
    try:
        contact = _usable_contact(kind, raw)
    except ValidationError:
        return None
    if contact is None:
        return None
    record = (SignInCode.objects.select_for_update()
              .filter(contact=contact, used_at__isnull=True).order_by("-created_at").first())
    now = timezone.now()
    if record is None or record.expires_at < now or record.attempts >= CODE_MAX_ATTEMPTS:
        return None
    if not secrets.compare_digest(record.code_hash, crypto.token_hash(code.strip())):
        SignInCode.objects.filter(pk=record.pk).update(attempts=record.attempts + 1)
        return None
    record.used_at = now
    record.save(update_fields=["used_at"])
    return contact.member


def signed_in_member(request: HttpRequest) -> Member | None:
    """The member whose signed cookie this request carries, if still valid and active."""
    raw = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT,
                                    max_age=SESSION_AGE)
    if not raw or not str(raw).isdigit():
        return None
    return Member.objects.filter(pk=int(raw), status=Member.Status.ACTIVE).first()


def _sign_in(response: HttpResponse, member: Member) -> HttpResponse:
    response.set_signed_cookie(COOKIE, str(member.pk), salt=COOKIE_SALT,
                               max_age=int(SESSION_AGE.total_seconds()), path=COOKIE_PATH,
                               secure=settings.SESSION_COOKIE_SECURE, httponly=True,
                               samesite="Lax")
    return response


def _sign_out(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, samesite="Lax")
    return response


# --- changing settings --------------------------------------------------------------------


@dataclass
class SettingsInput:
    name: str
    language: str
    channels: list[str]
    places: list[member_actions.Place] = field(default_factory=list)
    # With Signal chosen: the number for it, or None to keep the member's Signal number.
    signal_number: str | None = None


def _value(member: Member, kind: str) -> str:
    contact = next((c for c in member.contacts.all() if c.kind == kind), None)
    return contact.value if contact is not None and contact.value_encrypted else ""


def build_settings_input(member: Member, post: Any) -> SettingsInput:
    """Validate the settings form with the same rules as joining. Raises InvalidInput."""
    places: list[member_actions.Place] = []
    place_error = None
    areas = {a.pk: a for a in member.watch_areas.all()}
    try:
        for area_id, area in areas.items():
            if post.get(f"remove_{area_id}") == "yes":
                continue
            label = post.get(f"label_{area_id}") or area.label
            label = label if label in dict(WATCH_LABELS) else "other"
            # The cell is all that is kept of the place; its centre stands for the point.
            lat, lng = geo.center(area.cell)
            places.append(member_actions.place_from_point(
                lat, lng, post.get(f"radius_{area_id}") or area.radius_m, label))
        label = post.get("label_new") or "home"
        label = label if label in dict(WATCH_LABELS) else "other"
        lat, lng = post.get("latitude_new"), post.get("longitude_new")
        zone_id = post.get("zone_new") or ""
        radius = post.get("radius_new") or 1000
        if lat and lng:
            places.append(member_actions.place_from_point(lat, lng, radius, label))
        elif zone_id:
            zone = Zone.objects.filter(pk=int(zone_id)).first() if zone_id.isdigit() else None
            if zone is None:
                raise ValidationError(_("Choose a neighbourhood from the list."))
            places.append(member_actions.place_from_zone(zone, radius, label))
    except ValidationError as exc:
        place_error = exc.messages[0]
    kinds = {c.kind for c in member.contacts.all() if c.value_encrypted}
    chosen = [c for c in post.getlist("channels") if c]
    errors: dict[str, str] = {}
    signal_number, signal_error = _signal_choice(member, chosen, post.get("signal", ""))
    if signal_error:
        errors["signal"] = signal_error
    if Channel.SIGNAL in chosen:
        kinds.add(Channel.SIGNAL)  # a Signal number can be added here
    if unknown := [c for c in chosen if c not in kinds]:
        errors["channels"] = _("You have no contact for: %(names)s.") % {
            "names": ", ".join(unknown)}
    elif not chosen:
        errors["channels"] = _("Choose at least one way to get alerts, or stop all alerts "
                               "below.")
    # The same checks as joining: name, language, places (the contacts are the stored ones).
    try:
        data = member_actions.build_member_input(
            name=post.get("name", ""), language=post.get("language") or member.language,
            phone=_value(member, Channel.SMS), email=_value(member, Channel.EMAIL),
            channels=[c for c in chosen if c in (Channel.SMS, Channel.EMAIL) and c in kinds]
            or None,
            places=places, place_error=place_error)
    except InvalidInput as exc:
        errors.update({k: v for k, v in exc.errors.items()
                       if k not in ("phone", "email") and k not in errors})
        data = None
    if errors or data is None:
        raise InvalidInput(errors or {"form": _("Please check the fields marked below.")})
    return SettingsInput(name=data.name, language=data.language, channels=chosen,
                         places=data.places, signal_number=signal_number)


def _signal_choice(member: Member, chosen: list[str], raw: str) -> tuple[str | None, str]:
    """(the number for Signal or None to keep it, an error message or "")."""
    if Channel.SIGNAL not in chosen:
        if raw.strip():
            return None, _("Tick Signal as well to get alerts on this Signal number.")
        return None, ""
    try:
        return member_actions.signal_number_for(member, raw), ""
    except ValidationError as exc:
        return None, exc.messages[0]


@transaction.atomic
def do_update_settings(member: Member, data: SettingsInput) -> None:
    member.name = data.name
    member.language = data.language
    member.save(update_fields=["name", "language"])
    member.watch_areas.all().delete()
    WatchArea.objects.bulk_create([
        WatchArea(member=member, label=p.label, cell=p.cell, rings=p.rings, radius_m=p.radius_m)
        for p in data.places])
    if Channel.SIGNAL not in data.channels:
        member_actions.do_remove_signal_contact(member)
    elif data.signal_number:
        member_actions.do_set_signal_contact(member, data.signal_number)
    member.contacts.filter(kind__in=data.channels).update(enabled=True)
    member.contacts.exclude(kind__in=data.channels).update(enabled=False)


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
            "signal": "",
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
    return render(request, "members/me_settings.html", context, status=status)


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
        response = render(request, "members/me_signin.html", {
            "values": {}, "forget_offline": "signed-out" in request.GET})
        # The service worker keeps the last settings page for offline use: a sign-in form
        # shown because the session ran out must not replace it.
        response[OFFLINE_HEADER] = "skip"
        return response
    context: dict[str, Any] = {"values": request.POST}
    if not ratelimit.hit("signin", ratelimit.client_key(request), limit=10, window_s=600):
        context["error"] = _("Too many attempts. Wait a few minutes.")
        return render(request, "members/me_signin.html", context, status=429)
    raw = request.POST.get("contact", "").strip()
    if not raw:
        context["error"] = _("Enter the phone number or email address you signed up with.")
        return render(request, "members/me_signin.html", context, status=400)
    try:
        do_start_sign_in(kind_of(raw), raw)
    except ValidationError as exc:
        context["error"] = exc.messages[0]
        return render(request, "members/me_signin.html", context, status=400)
    return render(request, "members/me_code.html", {"contact": raw})


@never_cache
@require_POST
def me_code(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("contact", "").strip()
    if not ratelimit.hit("signin-code", ratelimit.client_key(request), limit=30,
                         window_s=600):
        return render(request, "members/me_code.html", {
            "contact": raw, "error": _("Too many attempts. Wait a few minutes.")}, status=429)
    member = do_check_sign_in(kind_of(raw), raw, request.POST.get("code", "")) if raw else None
    if member is None:
        return render(request, "members/me_code.html", {
            "contact": raw, "error": _("That code is not right, or it has expired.")},
            status=400)
    return _sign_in(redirect("me"), member)


def _signed_in_or_403(request: HttpRequest) -> Member | HttpResponse:
    member = signed_in_member(request)
    if member is None:
        return render(request, "members/me_signin.html", {
            "values": {}, "error": _("Your sign-in has expired. Ask for a new code.")},
            status=403)
    return member


@never_cache
@require_POST
def me_save(request: HttpRequest) -> HttpResponse:
    member = _signed_in_or_403(request)
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
    member = _signed_in_or_403(request)
    if isinstance(member, HttpResponse):
        return member
    if request.POST.get("confirm") != "yes":
        return _settings_page(request, member, errors={
            "leave": _("Tick the box to confirm that you want to stop all alerts.")},
            status=400)
    member_actions.do_opt_out(member)
    response = _sign_out(redirect("left"))
    # This browser forgets the offline copy of the settings page and its push subscription.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@never_cache
@require_POST
def me_sign_out(request: HttpRequest) -> HttpResponse:
    # The page after signing out also removes this browser's offline copy (push.js).
    return _sign_out(HttpResponseRedirect(reverse("me") + "?signed-out=1"))


def _json_error(errors: dict[str, str], status: int) -> JsonResponse:
    return JsonResponse({"errors": errors,
                         "error": " ".join(errors.values())}, status=status)


def _json_body(request: HttpRequest) -> Any:
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
        return _signed_in_or_403(request)  # type: ignore[return-value]
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
