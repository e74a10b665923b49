"""The one check every request of a signed-in person passes, whatever the page.

1. **Second factor.** A session signed in with a password only (django-otp's
   `user.is_verified()` is false) reaches nothing but the steps that finish signing in:
   everything else is sent to the second-factor step, or to setting one up for someone
   who has none yet. New pages need no decorator to be covered: only the names in
   `OPEN_BEFORE_SECOND_FACTOR` are let through, and they hold no data. The API answers 401
   instead (its own tokens are only issued after both factors, see api/v1.py).
2. **Idle sessions.** A signed-in session with no request for STAFF_SESSION_IDLE_HOURS is
   signed out. Requests a page makes by itself (the console's queue refreshing) send
   `X-RR-Background: 1` and do not count as activity.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from rapidresponse.accounts.secondfactor import has_second_factor, is_verified

# URL names (outside any namespace) a password-only session may open.
OPEN_BEFORE_SECOND_FACTOR = frozenset({
    "login", "logout", "second_factor", "second_factor_setup", "set_language",
    "manifest", "service_worker",
})
LAST_SEEN = "rr_last_seen"
BACKGROUND_HEADER = "X-RR-Background"
# The last-seen time is written at most this often (each write is a session save).
SEEN_RESOLUTION_S = 60


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect; for htmx, one the whole page follows (not swapped into a fragment)."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}"


class StaffSessionMiddleware(MiddlewareMixin):
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated:
            return None
        now = int(time.time())
        idle_s = settings.STAFF_SESSION_IDLE_HOURS * 3600
        seen = request.session.get(LAST_SEEN)
        if isinstance(seen, int) and now - seen > idle_s:
            logout(request)
            messages.info(request, _("You were signed out after %(hours)s hours without "
                                     "activity. Sign in again.")
                          % {"hours": settings.STAFF_SESSION_IDLE_HOURS})
            return _redirect(request, _with_next(reverse("login"), request.get_full_path()))
        if request.headers.get(BACKGROUND_HEADER) == "1" and isinstance(seen, int):
            return None
        if not isinstance(seen, int) or now - seen >= SEEN_RESOLUTION_S:
            request.session[LAST_SEEN] = now
            request.session.set_expiry(idle_s)
        return None

    def process_view(self, request: HttpRequest, view_func: object, view_args: object,
                     view_kwargs: object) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and not match.namespace and (
                match.url_name in OPEN_BEFORE_SECOND_FACTOR):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("Finish signing in with your second factor "
                                             "first.")}, status=401)
        step = "second_factor" if has_second_factor(user) else "second_factor_setup"
        return _redirect(request, _with_next(reverse(step), request.get_full_path()))
