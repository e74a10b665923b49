"""The installable web app: the manifest and the service worker.

The service worker is served from /sw.js (so its scope is the whole site) with a version
computed from its own text and the files it keeps for offline use: when any of them changes,
browsers install the new worker and drop the old copies.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

THEME_COLOR = "#b3261e"
BACKGROUND_COLOR = "#ffffff"
ICONS = [
    ("web/icons/icon-192.png", "192x192", "any"),
    ("web/icons/icon-512.png", "512x512", "any"),
    ("web/icons/icon-maskable-512.png", "512x512", "maskable"),
]
#: Static files the offline pages need.
OFFLINE_ASSETS = [
    "web/site.css", "web/push.js", "web/map.js", "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js", "web/icons/icon-192.png", "web/icons/badge-96.png",
]
SW_SOURCE = "web/sw.js"
CONFIG_MARK = "__RR_CONFIG__"


def offline_pages() -> list[str]:
    """Pages that work offline, in the language the visitor had when they were kept:
    the know-your-rights page and the member's own settings."""
    return [reverse("rights"), reverse("me")]


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "id": "/",
        "name": settings.NETWORK_NAME,
        "short_name": settings.NETWORK_NAME,
        "description": _("Verified alerts about immigration enforcement near you, "
                         "and what to do."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "dir": "ltr",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND_COLOR,
        "theme_color": THEME_COLOR,
        "icons": [{"src": static(path), "sizes": sizes, "type": "image/png",
                   "purpose": purpose} for path, sizes, purpose in ICONS],
        "shortcuts": [
            {"name": _("Report activity"), "url": reverse("report")},
            {"name": _("Know your rights"), "url": reverse("rights")},
            {"name": _("Your alert settings"), "url": reverse("me")},
        ],
    }
    response = JsonResponse(data, content_type="application/manifest+json",
                            json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, public=True, max_age=3600)
    return response


def _asset_paths() -> list[str]:
    found = []
    for name in [SW_SOURCE, *OFFLINE_ASSETS]:
        path = finders.find(name)
        if not path or isinstance(path, list):
            raise FileNotFoundError(f"static file {name} is missing")
        found.append(str(path))
    return found


@lru_cache(maxsize=4)
def _script(paths: tuple[str, ...], stamps: tuple[int, ...], name: str) -> str:
    digest = hashlib.sha256(name.encode())
    for path in paths:
        with open(path, "rb") as f:
            digest.update(f.read())
    config = {
        "version": digest.hexdigest()[:16],
        "name": name,
        "pages": offline_pages(),
        "assets": [static(asset) for asset in OFFLINE_ASSETS],
        "icon": static("web/icons/icon-192.png"),
        "badge": static("web/icons/badge-96.png"),
    }
    with open(paths[0], encoding="utf-8") as f:
        source = f.read()
    return source.replace(CONFIG_MARK, json.dumps(config), 1)


def service_worker_script() -> str:
    paths = tuple(_asset_paths())
    stamps = tuple(os.stat(p).st_mtime_ns for p in paths)
    return _script(paths, stamps, settings.NETWORK_NAME)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(service_worker_script(),
                            content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # Browsers must always ask for a new worker rather than keep an old one.
    patch_cache_control(response, no_cache=True, max_age=0)
    return response
