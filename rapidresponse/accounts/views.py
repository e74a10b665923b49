"""Staff sign-in: the password (/login/), then the second factor (/login/code/), or setting
one up first (/login/set-up/); the staff member's own page (/account/) with new recovery
codes. The middleware (middleware.py) keeps a password-only session on these steps."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice

from rapidresponse.accounts import actions, lockout, secondfactor
from rapidresponse.accounts.models import Staff


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in: a page of this site that was asked for, or the console."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _step_url(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


class SignInView(LoginView):
    """Username and password. Right: on to the second factor. Wrong: the same answer
    whether or not the username exists; too many: locked out (lockout.py, via axes)."""

    template_name = "accounts/login.html"

    def get_success_url(self) -> str:
        return _step_url("second_factor", super().get_success_url())

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _signed_in(request: HttpRequest, user: User, device: Device) -> None:
    """Both factors given: the session says so, under a new key."""
    otp_login(request, device)
    request.session.cycle_key()
    lockout.forget_account_failures(user.get_username())


def _wait_message(seconds: int) -> str:
    return ngettext("Too many wrong codes just now: wait %(seconds)s second, then enter the "
                    "code your app shows.",
                    "Too many wrong codes just now: wait %(seconds)s seconds, then enter the "
                    "code your app shows.", seconds) % {"seconds": seconds}


def _wrong_code(request: HttpRequest, user: User) -> HttpResponse | None:
    """Count a wrong code; the lockout page (and signed out) when that was one too many."""
    if lockout.record_failure(request, user.get_username()):
        logout(request)
        return lockout.lockout_response(request)
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    next_url = _next_url(request)
    if not user.is_authenticated:
        return redirect(_step_url("login", next_url))
    if secondfactor.is_verified(user):
        return redirect(next_url)
    if not secondfactor.has_second_factor(user):
        return redirect(_step_url("second_factor_setup", next_url))
    assert isinstance(user, User)
    error = ""
    if request.method == "POST":
        if lockout.is_locked(request, user.get_username()):
            logout(request)
            return lockout.lockout_response(request)
        code = request.POST.get("code", "")
        check = actions.do_verify_second_factor(user, code)
        device = check.device
        if device is not None:
            _signed_in(request, user, device)
            if isinstance(device, StaticDevice):
                left = secondfactor.recovery_codes_left(user)
                messages.warning(request, ngettext(
                    "You signed in with a recovery code. %(count)s is left: make new ones "
                    "on your account page.",
                    "You signed in with a recovery code. %(count)s are left: make new ones "
                    "on your account page.", left) % {"count": left})
            return redirect(next_url)
        if check.wait_seconds:
            error = _wait_message(check.wait_seconds)
        elif code.strip():
            locked = _wrong_code(request, user)
            if locked is not None:
                return locked
            error = _("That code is not right. Enter the 6 digits your authenticator app "
                      "shows now, or one of your recovery codes.")
        else:
            error = _("Enter the code from your authenticator app.")
    return render(request, "accounts/second_factor.html",
                  {"error": error, "next": next_url}, status=400 if error else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: a password-only session of someone without one, or a
    signed-in staff member replacing theirs."""
    user = request.user
    next_url = _next_url(request)
    if not user.is_authenticated:
        return redirect(_step_url("login", next_url))
    verified = secondfactor.is_verified(user)
    if not verified and secondfactor.has_second_factor(user):
        return redirect(_step_url("second_factor", next_url))
    assert isinstance(user, User)
    error = ""
    if request.method == "POST":
        if lockout.is_locked(request, user.get_username()):
            logout(request)
            return lockout.lockout_response(request)
        code = request.POST.get("code", "")
        confirmation = actions.do_confirm_second_factor(user, code)
        codes = confirmation.recovery_codes
        if codes is not None:
            device = secondfactor.authenticator(user)
            assert device is not None
            _signed_in(request, user, device)
            return render(request, "accounts/recovery_codes.html", {
                "codes": [secondfactor.show_recovery_code(c) for c in codes],
                "next": next_url, "first_time": True})
        if confirmation.wait_seconds:
            error = _wait_message(confirmation.wait_seconds)
        elif code.strip():
            locked = _wrong_code(request, user)
            if locked is not None:
                return locked
            error = _("That code is not right. Enter the 6 digits the app shows now for "
                      "this account.")
        else:
            error = _("Enter the code from your authenticator app.")
    device = actions.do_start_second_factor(user)
    return render(request, "accounts/setup.html", {
        "qr_svg": secondfactor.qr_svg(device), "otpauth_url": device.config_url,
        "secret": secondfactor.secret_for_people(device),
        "replacing": verified, "error": error, "next": next_url,
    }, status=400 if error else 200)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """Who I am here: role, zones, second factor and recovery codes."""
    assert isinstance(request.user, User)
    staff = Staff.objects.filter(user=request.user).first()
    return render(request, "accounts/account.html", {
        "staff": staff,
        "zones": list(staff.zones.order_by("name")) if staff is not None else [],
        "recovery_left": secondfactor.recovery_codes_left(request.user),
    })


@never_cache
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown this once; the old ones stop working."""
    assert isinstance(request.user, User)
    codes = actions.do_new_recovery_codes(request.user)
    return render(request, "accounts/recovery_codes.html", {
        "codes": [secondfactor.show_recovery_code(c) for c in codes],
        "next": reverse("account"), "first_time": False})
