"""Deployment checks of the web layer (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

# Public tile services: each learns the address of every visitor and the streets they look at.
PUBLIC_TILE_HOSTS = ("openstreetmap.org", "openstreetmap.fr", "opentopomap.org",
                     "basemaps.cartocdn.com", "tile.thunderforest.com", "stadiamaps.com",
                     "arcgisonline.com", "mapbox.com", "maptiler.com", "googleapis.com")


@register(Tags.security, deploy=True)
def third_party_tiles(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    host = urlsplit(settings.MAP_TILE_URL.replace("{s}", "a")).hostname or ""
    if any(host == public or host.endswith("." + public) for public in PUBLIC_TILE_HOSTS):
        return [Warning(
            f"MAP_TILE_URL loads map tiles from {host}, a public tile service: it learns the "
            "address of everyone who opens a map and the streets around each pin.",
            hint="Set MAP_TILE_UPSTREAM to that URL instead (this site then fetches and "
                 "caches the tiles), point MAP_TILE_URL at the network's own tile server, "
                 "or leave both unset (maps show the zones on a plain background).",
            id="web.W001")]
    return []
