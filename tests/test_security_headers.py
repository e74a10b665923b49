"""Web hardening besides the Content Security Policy (test_csp.py): HTTPS in production
(HSTS, the redirect, secure cookies, the proxy header only when configured) and the other
security headers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.deploy_check import production_env

ROOT = Path(__file__).resolve().parent.parent


# --- headers ------------------------------------------------------------------------------


def test_the_security_headers(client, db):
    response = client.get("/report/")
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    permissions = dict(p.split("=", 1) for p in response["Permissions-Policy"].split(", "))
    assert permissions["geolocation"] == "(self)"
    assert permissions["camera"] == permissions["microphone"] == "()"


def test_the_api_has_the_security_headers(client, db):
    response = client.get("/api/v1/incidents")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Permissions-Policy" in response


def test_https_settings_redirect_and_send_hsts(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/rights/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/rights/"
    secure = client.get("/rights/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


def test_the_reporters_cookie_is_secure_when_sessions_are(client, zone, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = client.post("/report/", {"zone": zone.pk, "activity": "patrol"}, secure=True)
    assert response.status_code == 302
    cookie = response.cookies["rr_reporter"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


# --- production settings --------------------------------------------------------------------

def production(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Production settings with throwaway secrets (as `make deploy-check` makes them)."""
    env = {k: v for k, v in production_env(tmp_path).items()
           if k not in ("SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER",
                        "SECURE_SSL_REDIRECT")}
    return {**env, **extra}


def production_settings(tmp_path: Path, *names: str, **extra: str) -> dict[str, Any]:
    code = ("import json, django; from django.conf import settings; django.setup(); "
            f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                            env=production(tmp_path, **extra), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_deploy_check_passes_in_production():
    result = subprocess.run([sys.executable, "tools/deploy_check.py"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_uses_https_only(tmp_path):
    values = production_settings(
        tmp_path, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER")
    assert values == {"SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31_536_000,
                      "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
                      "LANGUAGE_COOKIE_SECURE": True,
                      # Not trusted unless a proxy that sets it is configured.
                      "SECURE_PROXY_SSL_HEADER": None}


def test_hsts_and_the_proxy_header_are_configurable(tmp_path):
    values = production_settings(
        tmp_path, "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER",
        SECURE_HSTS_SECONDS="86400", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert values == {"SECURE_HSTS_SECONDS": 86400,
                      "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}

