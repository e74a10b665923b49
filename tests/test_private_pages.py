"""No page with personal data may be kept by a browser or a proxy: every URL in the URL map,
asked by a stranger, a staff member, a member signed in to /me/ and an API token holder,
answers `Cache-Control: no-store`, except the few public files that say how long they keep.

The URLs come from the URL map itself, so a new page (a new staff page above all) is checked
without anyone adding it here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from rapidresponse.membership import signin
from tests.conftest import make_member

#: Public answers that set their own caching (and hold nothing about whoever asks).
PUBLIC_CACHEABLE = {"/manifest.webmanifest", "/sw.js"}
#: Pages that hold personal data even for someone not signed in: what they typed.
PERSONAL_PUBLIC = ["/join/", "/join/welcome/", "/code/1/", "/confirm/x/", "/leave/",
                   "/leave/confirm/", "/leave/done/", "/me/", "/me/code/"]

SAMPLE = {"int": "1", "str": "x", "slug": "x", "path": "1"}


def routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def sample_paths() -> list[str]:
    """Every URL of the site, with 1 or x for each parameter (the admin's regular
    expressions left out: its pages are under admin/ as path routes too)."""
    paths = []
    for route in routes(get_resolver().url_patterns):
        if "(?P" in route or "^" in route:
            continue
        path = "/" + re.sub(r"<(?:(\w+):)?\w+>",
                            lambda m: SAMPLE.get(m.group(1) or "str", "x"), route)
        paths.append(path)
    return sorted(set(paths))


PATHS = sample_paths()


def staff_pages() -> list[str]:
    return [p for p in PATHS if p.startswith(("/console/", "/verify/", "/admin/"))]


def test_the_url_map_has_the_pages_we_know():
    assert {"/console/", "/console/members/", "/verify/1/", "/me/", "/join/",
            "/api/v1/incidents", "/admin/"} <= set(PATHS)
    assert len(staff_pages()) > 15


@pytest.fixture
def member_client(db: Any) -> Client:
    member = make_member("Ana", "en", phone="+12135550123")
    client = Client()
    signer = signing.get_cookie_signer(salt=signin.COOKIE + signin.COOKIE_SALT)
    client.cookies[signin.COOKIE] = signer.sign(str(member.pk))
    return client


def assert_not_kept(response: Any, who: str, path: str) -> None:
    cache_control = response.get("Cache-Control", "")
    assert "no-store" in cache_control, f"{who} {path}: Cache-Control {cache_control!r}"
    assert "public" not in cache_control, f"{who} {path}: {cache_control!r}"


def test_every_answer_to_a_stranger_is_uncacheable_but_the_public_files(client, db):
    for path in PATHS:
        response = client.get(path)
        if path in PUBLIC_CACHEABLE:
            assert "no-store" not in response["Cache-Control"], path
        else:
            assert_not_kept(response, "a stranger", path)


def test_every_page_a_staff_member_sees_is_uncacheable(coordinator):
    for path in PATHS:
        assert_not_kept(coordinator.client.get(path), "a coordinator", path)


def test_every_page_a_member_sees_is_uncacheable(member_client):
    for path in PATHS:
        assert_not_kept(member_client.get(path), "a member", path)


def test_every_api_answer_to_a_token_holder_is_uncacheable(client, dispatcher):
    for path in [p for p in PATHS if p.startswith("/api/")]:
        assert_not_kept(client.get(path, **dispatcher.api()), "an API token", path)


@pytest.mark.parametrize("path", PERSONAL_PUBLIC)
def test_joining_leaving_and_codes_are_never_kept(client, db, path):
    assert_not_kept(client.get(path), "a stranger", path)


def test_a_signed_in_members_settings_are_never_kept(member_client):
    response = member_client.get("/me/")
    assert response.status_code == 200
    assert_not_kept(response, "a member", "/me/")


def test_a_public_file_is_not_kept_for_someone_signed_in(coordinator):
    """The view says the manifest may be kept an hour; not for someone signed in."""
    response = coordinator.client.get("/manifest.webmanifest")
    assert "max-age=3600" not in response["Cache-Control"]
    assert_not_kept(response, "a coordinator", "/manifest.webmanifest")


def test_a_failed_post_to_join_is_not_kept(client, db):
    response = client.post("/join/", {"phone": "+12135550199"})
    assert_not_kept(response, "a stranger", "POST /join/")
