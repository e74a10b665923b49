"""Staff sessions end after a shift without activity; the admin site does not exist in
production."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rapidresponse.accounts.middleware import LAST_SEEN

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600


def idle_for(persona: Any, seconds: int) -> None:
    """As if the last request of this browser was `seconds` ago."""
    session = persona.client.session
    session[LAST_SEEN] = int(time.time()) - seconds
    session.save()


def test_a_session_idle_for_a_shift_is_signed_out(dispatcher):
    assert dispatcher.client.get("/console/").status_code == 200
    idle_for(dispatcher, 12 * HOUR + 60)
    response = dispatcher.client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fconsole%2F"
    page = dispatcher.client.get(response["Location"]).content.decode()
    assert "signed out after 12 hours without activity" in page
    assert dispatcher.client.get("/console/")["Location"].startswith("/login/")


def test_a_session_used_within_the_shift_goes_on(dispatcher):
    idle_for(dispatcher, 11 * HOUR)
    assert dispatcher.client.get("/console/").status_code == 200
    assert time.time() - dispatcher.client.session[LAST_SEEN] < 60
    idle_for(dispatcher, 11 * HOUR)
    assert dispatcher.client.get("/console/").status_code == 200


def test_the_console_refreshing_itself_is_not_activity(dispatcher):
    idle_for(dispatcher, 11 * HOUR)
    background = {"HTTP_X_RR_BACKGROUND": "1", "HTTP_HX_REQUEST": "true"}
    assert dispatcher.client.get("/console/queue/", **background).status_code == 200
    assert time.time() - dispatcher.client.session[LAST_SEEN] >= 11 * HOUR
    idle_for(dispatcher, 12 * HOUR + 60)
    response = dispatcher.client.get("/console/queue/", **background)
    # htmx is told to take the whole page to the sign-in form, not to swap it into the queue.
    assert response["HX-Redirect"].startswith("/login/?next=")


def test_the_idle_time_is_a_setting(dispatcher, settings):
    settings.STAFF_SESSION_IDLE_HOURS = 1
    idle_for(dispatcher, HOUR + 60)
    assert dispatcher.client.get("/console/")["Location"].startswith("/login/")


def test_the_session_cookie_ends_with_the_idle_time(dispatcher):
    dispatcher.client.get("/console/")
    assert dispatcher.client.session.get_expiry_age() == 12 * HOUR


def _production(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(RR_ENV="production", SECRET_KEY="x" * 50,
               FIELD_ENCRYPTION_KEY="p3m0U4o0vH5ZtB3t9b1F3m8pBq2dD1lX6tq8rZ9vW0k=",
               EVIDENCE_ENCRYPTION_KEY="p3m0U4o0vH5ZtB3t9b1F3m8pBq2dD1lX6tq8rZ9vW0k=",
               BLIND_INDEX_KEY="y" * 32, REPORTER_INDEX_KEY="r" * 32, VAPID_PRIVATE_KEY="unused",
               ALLOWED_HOSTS="testserver",
               DJANGO_SETTINGS_MODULE="rapidresponse.settings", RR_VAR_DIR=str(ROOT / "var"))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_has_no_admin_site():
    result = _production(
        "import django; django.setup()\n"
        "from django.urls import resolve, Resolver404\n"
        "for path in ('/admin/', '/admin/login/', '/admin/auth/user/'):\n"
        "    try:\n"
        "        resolve(path)\n"
        "        print('ROUTED', path)\n"
        "    except Resolver404:\n"
        "        print('404', path)\n"
        "resolve('/login/'); print('login ok')\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:4] == ["404 /admin/", "404 /admin/login/",
                                             "404 /admin/auth/user/", "login ok"]


def test_the_embedded_deployment_routes_the_admin_site(client, db):
    # ...asking for the second factor (tests/test_second_factor.py).
    assert client.get("/admin/").status_code == 302
