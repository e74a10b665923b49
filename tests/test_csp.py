"""The Content Security Policy: on every page, no inline code anywhere, images only from
this site and the configured map tiles' host."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from rapidresponse.web.csp import tile_source

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "rapidresponse").rglob("templates/**/*.html"))


def policy(response: Any) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    directives: dict[str, set[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


@pytest.mark.parametrize("path", ["/", "/report/", "/map/", "/join/", "/me/", "/login/",
                                  "/api/v1/incidents", "/sw.js"])
def test_every_page_has_a_policy_without_inline_code(client, db, path):
    directives = policy(client.get(path))
    assert directives["default-src"] == {"'none'"}
    assert directives["script-src"] == {"'self'"}
    assert directives["style-src"] == {"'self'"}
    for sources in directives.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "https:"} & sources


def test_staff_pages_have_the_policy(dispatcher):
    directives = policy(dispatcher.client.get("/console/"))
    assert directives["script-src"] == {"'self'"}
    assert directives["frame-ancestors"] == {"'none'"}
    assert directives["form-action"] == {"'self'"}


def test_images_come_only_from_here_and_the_tile_host(client, db, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/osm/{z}/{x}/{y}.png"
    assert policy(client.get("/map/"))["img-src"] == {
        "'self'", "data:", "https://tiles.example.org"}


def test_without_tiles_images_come_only_from_here(client, db, settings):
    settings.MAP_TILE_URL = ""
    assert policy(client.get("/map/"))["img-src"] == {"'self'", "data:"}


@pytest.mark.parametrize(("url", "source"), [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
    ("http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8081"),
    ("https://user:secret@tiles.example.org/{z}/{x}/{y}", "https://tiles.example.org"),
    ("//tiles.example.org/{z}/{x}/{y}.png", "tiles.example.org"),
    ("/tiles/{z}/{x}/{y}.png", None),
    ("", None),
    ("javascript:alert(1)", None),
])
def test_the_tile_host_as_a_policy_source(url, source):
    assert tile_source(url) == source


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_style(template):
    text = template.read_text()
    assert not re.search(r"<style", text, re.I)
    assert not re.search(r"\sstyle\s*=", text, re.I)
    assert not re.search(r"\son[a-z]+\s*=", text, re.I), "an event handler attribute"
    assert "javascript:" not in text.lower()
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.I | re.S):
        assert script.strip() == "", "an inline script"
    for tag in re.findall(r"<script\b[^>]*>", text, re.I):
        assert "src=" in tag, "a script or data block without src"
