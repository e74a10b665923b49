"""Maps without a third party: production loads no tiles from a public tile service unless
told to, the site can fetch and cache tiles from the network's tile server itself, and a map
without tiles still shows where things are (the zones, outlined and named)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from rapidresponse.lib import geo
from rapidresponse.zones.models import Zone, ZoneCell
from rapidresponse.zones.outlines import outlines
from tests.conftest import BOYLE
from tests.test_browser import PHONE, new_context
from tests.test_browser import browser as browser  # the fixture, shared
from tests.test_browser_csp import PNG
from tools.deploy_check import production_env

ROOT = Path(__file__).resolve().parent.parent


class Upstream(http.server.BaseHTTPRequestHandler):
    """The network's tile server: records what it was asked and with which headers."""

    asked: list[tuple[str, dict[str, str]]] = []
    down = False

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        Upstream.asked.append((self.path, dict(self.headers.items())))
        if Upstream.down:
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def upstream(settings: Any, tmp_path: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Upstream.asked, Upstream.down = [], False
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.MAP_TILE_UPSTREAM = url + "/{z}/{x}/{y}.png"
    settings.MAP_TILE_URL = settings.TILE_PROXY_URL
    settings.MAP_TILE_CACHE_DIR = tmp_path / "tiles"
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def production(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = production_env(tmp_path)
    for name in ("MAP_TILE_URL", "MAP_TILE_UPSTREAM"):
        env.pop(name, None)
    env.update(extra)
    return env


def setting_in(env: dict[str, str], name: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         f"from django.conf import settings; print(repr(settings.{name}))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1]  # after the shell's own notices


def test_production_loads_no_tiles_from_a_third_party_unless_told(tmp_path):
    assert setting_in(production(tmp_path), "MAP_TILE_URL") == "''"
    proxied = production(tmp_path, MAP_TILE_UPSTREAM="https://tiles.internal/{z}/{x}/{y}.png")
    assert setting_in(proxied, "MAP_TILE_URL") == "'/tiles/{z}/{x}/{y}.png'"


def test_the_deploy_check_warns_about_a_public_tile_service(tmp_path):
    env = production(tmp_path, MAP_TILE_URL="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                           "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "web.W001" in done.stderr and "tile.openstreetmap.org" in done.stderr
    own = production(tmp_path, MAP_TILE_URL="https://tiles.our-network.org/{z}/{x}/{y}.png")
    assert "web.W001" not in subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=own,
        capture_output=True, text=True, timeout=120).stderr


def test_zone_outlines_follow_the_zones_cells(zone):
    (boyle,) = outlines()
    assert boyle["name"] == "Boyle Heights"
    (ring,) = boyle["rings"]
    lats, lngs = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lats) < BOYLE[0] < max(lats) and min(lngs) < BOYLE[1] < max(lngs)
    # A zone in two pieces has two outlines; a new zone shows without waiting for the cache.
    far = Zone.objects.create(name="Van Nuys")
    ZoneCell.objects.bulk_create([
        ZoneCell(zone=far, cell=geo.cell_for(34.1870, -118.4480, 8)),
        ZoneCell(zone=far, cell=geo.cell_for(34.2300, -118.5000, 8))])
    by_name = {o["name"]: o for o in outlines()}
    assert len(by_name["Van Nuys"]["rings"]) == 2


def test_a_map_page_without_tiles_carries_the_zones_and_allows_no_other_host(client, settings,
                                                                             zone):
    settings.MAP_TILE_URL = ""
    answer = client.get("/map/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'data-tiles=""' in html and "Boyle Heights" in html
    policy = answer["Content-Security-Policy"]
    img = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert img.split() == ["img-src", "'self'", "data:"]


def test_the_tile_proxy_fetches_once_and_tells_the_tile_server_nothing(client, upstream):
    cache.clear()
    first = client.get("/tiles/3/1/2.png", HTTP_COOKIE="sessionid=abc",
                       HTTP_REFERER="http://testserver/map/", REMOTE_ADDR="203.0.113.9")
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    assert b"".join(first.streaming_content) == PNG
    again = client.get("/tiles/3/1/2.png")
    assert b"".join(again.streaming_content) == PNG
    (path, headers), = Upstream.asked  # the second came from the cache
    assert path == "/3/1/2.png"
    sent = {name.lower() for name in headers}
    assert not sent & {"cookie", "referer", "x-forwarded-for", "forwarded", "x-real-ip"}
    assert "203.0.113.9" not in json.dumps(headers)


def test_the_tile_proxy_refuses_tiles_that_do_not_exist(client, upstream):
    for url in ("/tiles/3/8/0.png", "/tiles/3/0/8.png", "/tiles/19/0/0.png"):
        assert client.get(url).status_code == 404, url
    assert Upstream.asked == []


def test_when_the_tile_server_is_down_an_old_tile_beats_none(client, upstream, settings):
    assert client.get("/tiles/2/1/1.png").status_code == 200
    Upstream.down = True
    assert client.get("/tiles/2/2/2.png").status_code == 502
    settings.MAP_TILE_CACHE_DAYS = 0  # everything cached is stale now
    stale = client.get("/tiles/2/1/1.png")
    assert stale.status_code == 200 and b"".join(stale.streaming_content) == PNG


def test_one_address_cannot_make_the_site_hammer_the_tile_server(client, upstream, settings):
    cache.clear()
    settings.MAP_TILES_PER_MINUTE = 3
    answers = [client.get(f"/tiles/4/{x}/0.png").status_code for x in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert len(Upstream.asked) == 3
    # Tiles already cached are still served.
    assert client.get("/tiles/4/0/0.png").status_code == 200


def test_without_an_upstream_there_is_no_tile_proxy(client, settings):
    settings.MAP_TILE_UPSTREAM = ""
    assert client.get("/tiles/3/1/2.png").status_code == 404


@pytest.mark.browser
def test_a_map_without_tiles_shows_the_zones_and_talks_to_no_one_else(browser, live_server,
                                                                      zone):
    context = new_context(browser, live_server, PHONE)
    elsewhere: list[str] = []
    context.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(
        (live_server.url, "data:")) else None)
    page = context.new_page()
    page.goto("/map/")
    expect(page.locator("#map.plain")).to_be_visible()
    expect(page.locator("#map .zone-label")).to_have_text("Boyle Heights")
    assert page.locator("#map path.zone-outline").count() == 1
    assert page.locator("#map img.leaflet-tile").count() == 0
    assert elsewhere == []
