"""A caching proxy for map tiles (MAP_TILE_UPSTREAM): browsers fetch tiles from this site
only, so the tile server never learns who looks at which streets, only that this server
asked for a tile once in MAP_TILE_CACHE_DAYS. No cookie, referrer or client address goes
upstream."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from rapidresponse.lib import http, ratelimit

MAX_TILE_BYTES = 1_000_000
TILE_TYPES = ("image/png", "image/jpeg", "image/webp")


def _cached(z: int, x: int, y: int) -> Path:
    return Path(settings.MAP_TILE_CACHE_DIR) / str(z) / str(x) / f"{y}.tile"


def _serve(path: Path) -> FileResponse:
    tile = path.open("rb")
    head = tile.read(4)  # the type from the first bytes; the file is sent from its start
    tile.seek(0)
    kind = ("image/png" if head.startswith(b"\x89PNG") else
            "image/jpeg" if head.startswith(b"\xff\xd8") else "image/webp")
    response = FileResponse(tile, content_type=kind)
    patch_cache_control(response, public=True, max_age=86_400)
    return response


def _store(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    os.replace(tmp, path)


@require_GET
def tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponseBase:
    if not settings.MAP_TILE_UPSTREAM:
        raise Http404("This site does not serve map tiles.")
    if not (z <= settings.MAP_TILE_MAX_ZOOM and x < 2 ** z and y < 2 ** z):
        raise Http404("No such tile.")
    path = _cached(z, x, y)
    age_limit = settings.MAP_TILE_CACHE_DAYS * 86_400
    if path.exists() and time.time() - path.stat().st_mtime < age_limit:
        return _serve(path)
    if not ratelimit.hit("tiles", ratelimit.client_key(request),
                         limit=settings.MAP_TILES_PER_MINUTE, window_s=60):
        return HttpResponse("Too many map tiles; wait a minute.", status=429,
                            content_type="text/plain; charset=utf-8")
    url = settings.MAP_TILE_UPSTREAM.format(z=z, x=x, y=y, s="a")
    try:
        answer = http.request("GET", url, headers={
            "User-Agent": f"RapidResponse tile cache ({settings.NETWORK_NAME})"})
    except http.HttpError:
        answer = None
    kind = answer.headers.get("content-type", "").split(";")[0].strip() if answer else ""
    if (answer is None or answer.status_code != 200 or kind not in TILE_TYPES
            or len(answer.content) > MAX_TILE_BYTES):
        if path.exists():
            return _serve(path)  # an old tile beats none while the tile server is away
        return HttpResponse("The map's tile server did not answer.", status=502,
                            content_type="text/plain; charset=utf-8")
    _store(path, answer.content)
    return _serve(path)
