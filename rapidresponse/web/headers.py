"""Headers for every answer besides Django's own (SecurityMiddleware, settings): the
Permissions-Policy, and `Cache-Control: no-store` on everything that may hold personal data.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

from rapidresponse.membership import signin

#: Browser features this site uses: only the location (for "use my location", on this
#: site's own pages); everything else is off, for us and for anything we might embed.
PERMISSIONS_POLICY = ", ".join([
    "geolocation=(self)",
    "camera=()",
    "microphone=()",
    "payment=()",
    "usb=()",
    "accelerometer=()",
    "gyroscope=()",
    "magnetometer=()",
])


def is_personal(request: HttpRequest) -> bool:
    """Whether the answer may depend on who asks: a signed-in staff member, a member signed
    in to /me/, an API token, or any session at all."""
    user = getattr(request, "user", None)
    return bool(
        (user is not None and user.is_authenticated)
        or "HTTP_AUTHORIZATION" in request.META
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or signin.COOKIE in request.COOKIES
    )


class SecurityHeadersMiddleware:
    """Permissions-Policy on every answer, and `Cache-Control: no-store` on every answer that
    could hold personal data.

    Nothing may be kept by a browser or a proxy unless its view says so: an answer without a
    Cache-Control header gets no-store, and an answer to someone signed in (staff, a member,
    an API token) gets no-store whatever its view said. So a new staff page is covered
    without anyone remembering to mark it, and only public pages can ever be cached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if is_personal(request):
            del response.headers["Cache-Control"]
            del response.headers["Expires"]
            add_never_cache_headers(response)
        elif "Cache-Control" not in response.headers:
            add_never_cache_headers(response)
        return response
