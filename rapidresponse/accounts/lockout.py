"""Sign-in lockout, on every way in: the sign-in form, the second-factor step (setting it up
included) and the API's token endpoint (the admin site has no sign-in form of its own).

django-axes counts failures, a wrong password or a wrong code alike, per account and per
client address; at LOGIN_FAILURE_LIMIT either one is refused for LOGIN_LOCKOUT_MINUTES,
even with the right password and code. The counts live in the cache only (Redis when
REDIS_URL is set), under hashes, and expire with the cool-off. The address axes sees is
itself a keyed hash of `lib.net.client_key` (the address behind our trusted proxies, an IPv6
client's /64), so neither the cache nor a log line ever holds a client's address. A
username that does not exist is counted and locked like one that does, so none of this
tells which usernames exist.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from rapidresponse.lib import crypto, net


class LockoutBackend(AxesStandaloneBackend):
    """axes' backend (first in AUTHENTICATION_BACKENDS: a locked-out account or address is
    refused before any password is checked). A check without a request (a script asking
    authenticate() directly) is no sign-in from anywhere: it is left to the next backend."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_token(request: HttpRequest) -> str:
    """What axes counts an address by (AXES_CLIENT_IP_CALLABLE): a keyed hash of the client
    key, useless without BLIND_INDEX_KEY."""
    return crypto.blind_index("signin", net.client_key(request))[:32]


def client_str(username: str | None, ip_address: str | None, user_agent: str | None,
               path_info: str | Any, request: HttpRequest | None) -> str:
    """How axes names an attempt in its log lines (AXES_CLIENT_STR_CALLABLE): the page only.
    A username field sometimes holds a password typed in the wrong box."""
    if isinstance(path_info, tuple | list):
        path_info = path_info[0] if path_info else ""
    return f"{{path_info: {path_info!s}}}"


def _credentials(username: str) -> dict[str, str]:
    return {"username": username}


def is_locked(request: HttpRequest, username: str) -> bool:
    """True while this account or this address is locked out."""
    return bool(AxesProxyHandler.is_locked(request, _credentials(username)))


def record_failure(request: HttpRequest, username: str) -> bool:
    """Count a wrong second-factor code like a wrong password. True when this locked the
    account or the address out."""
    user_login_failed.send(sender=__name__, credentials=_credentials(username), request=request)
    return bool(getattr(request, "axes_locked_out", False)) or is_locked(request, username)


def forget_account_failures(username: str) -> None:
    """After both factors: the account's count starts again (the address's does not)."""
    AxesProxyHandler.reset_attempts(username=username)


def lockout_message() -> str:
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    return _("Too many failed sign-in attempts for this account or from this network. "
             "Sign-in is paused: try again in %(minutes)s minutes. If these attempts were "
             "not yours, tell a coordinator.") % {"minutes": minutes}


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The answer while locked out (AXES_LOCKOUT_CALLABLE, also called by our own views):
    429 with a message in the reader's language; JSON for the API."""
    retry_after = str(settings.LOGIN_LOCKOUT_MINUTES * 60)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        response = render(request, "accounts/locked.html", {"message": lockout_message()},
                          status=429)
    response["Retry-After"] = retry_after
    return response
