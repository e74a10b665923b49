"""The Content Security Policy (django-csp) with the one host map tiles may come from.

The policy is in settings (CONTENT_SECURITY_POLICY); what is added here depends on another
setting, read at request time: MAP_TILE_URL's scheme and host go into img-src, and no other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

SUBDOMAIN = "tile-subdomain"


def tile_source(url: str) -> str | None:
    """The CSP source for a Leaflet tile URL template: its scheme and host (with the port),
    `*.` for a `{s}` subdomain, None when tiles are off or come from this site."""
    parts = urlsplit(url.strip().replace("{s}", SUBDOMAIN))
    if not parts.netloc or parts.scheme not in ("http", "https", ""):
        return None  # no tiles, or tiles from this site ('self' allows them)
    host = parts.netloc.rsplit("@", 1)[-1].replace(SUBDOMAIN, "*")  # never credentials
    # A protocol-relative template ("//host/...") loads with the page's own scheme.
    return f"{parts.scheme}://{host}" if parts.scheme else host


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with map tiles allowed from MAP_TILE_URL's host only."""

    def get_policy_parts(self, request: HttpRequest, response: HttpResponseBase,
                         report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        source = tile_source(settings.MAP_TILE_URL)
        if source is not None and not report_only:
            update = dict(parts.update or {})
            update["img-src"] = [*update.get("img-src", []), source]
            parts.update = update
        return parts
