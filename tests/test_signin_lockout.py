"""Sign-in lockout on every way in (the form, the code step, the API): per account and per
address, the right password refused until the cool-off, nothing about addresses kept."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.management import call_command
from django.test import Client

from rapidresponse.accounts.models import ApiToken
from tests.conftest import PASSWORD, fresh_code, make_staff

JSON = "application/json"
ADDRESS = "203.0.113.77"


@pytest.fixture
def limit(settings: Any) -> int:
    return int(settings.AXES_FAILURE_LIMIT)


@pytest.fixture
def staff(db: Any) -> Any:
    return make_staff("ana", "dispatcher")


def web(address: str = ADDRESS, language: str = "en") -> Client:
    return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)


def password(client: Client, username: str, secret: str) -> Any:
    return client.post("/login/", {"username": username, "password": secret})


# --- the sign-in form ------------------------------------------------------------------------


def test_wrong_passwords_lock_the_account_and_then_the_right_one_fails(staff, limit):
    codes = [password(web(f"198.51.100.{i}"), "ana", "guess-{i}").status_code
             for i in range(limit)]
    assert codes == [400] * (limit - 1) + [429]
    # From anywhere, with the right password:
    response = password(web("192.0.2.200"), "ana", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)


def test_wrong_passwords_lock_the_address_for_every_account(staff, limit):
    make_staff("ben", "dispatcher")
    client = web()
    codes = [password(client, f"someone{i}", "guess").status_code for i in range(limit)]
    assert codes[-1] == 429
    assert password(client, "ben", PASSWORD).status_code == 429
    # Ben from his own phone is not held up by what happened at that address.
    assert password(web("192.0.2.201"), "ben", PASSWORD).status_code == 302


def test_the_right_password_works_again_after_the_cool_off(staff, limit, settings):
    cool_off = 8  # seconds; counted from the last wrong password
    settings.AXES_COOLOFF_TIME = timedelta(seconds=cool_off)
    for _ in range(limit):
        password(web(), "ana", "guess")
    last_failure = time.monotonic()
    assert password(web(), "ana", PASSWORD).status_code == 429
    time.sleep(max(0.0, last_failure + cool_off + 0.5 - time.monotonic()))
    assert password(web(), "ana", PASSWORD).status_code == 302


def test_a_spoofed_forwarded_header_does_not_reset_the_count(staff, limit):
    client = web()
    codes = [client.post("/login/", {"username": f"x{i}", "password": "guess"},
                         HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code
             for i in range(limit)]
    assert codes[-1] == 429


def test_an_unknown_username_answers_like_a_known_one(staff, limit):
    known, unknown = web("198.51.100.1"), web("198.51.100.2")
    for attempt in range(limit):
        a = password(known, "ana", "guess")
        b = password(unknown, "nobody-here", "guess")
        assert a.status_code == b.status_code, attempt
        assert _visible(a) == _visible(b)


def _visible(response: Any) -> str:
    """The page without its CSRF token and the username typed back."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return re.sub(r'name="username"[^>]*>', "", text)


def test_the_lockout_page_is_in_spanish(staff, limit):
    client = web(language="es")
    for _ in range(limit):
        response = password(client, "ana", "guess")
    assert response.status_code == 429
    assert "Demasiados intentos fallidos" in response.content.decode()


def test_the_lockout_page_fits_a_phone(staff, limit):
    client = web()
    for _ in range(limit):
        response = password(client, "ana", "guess")
    page = response.content.decode()
    assert response.status_code == 429
    assert 'name="viewport" content="width=device-width' in page
    assert "<h1>Sign-in paused</h1>" in page


# --- the second-factor step ------------------------------------------------------------------


def test_wrong_codes_lock_out_and_sign_the_password_out(staff, limit, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only axes here, not the app's own slowing down
    client = web()
    assert password(client, "ana", PASSWORD).status_code == 302
    codes = [client.post("/login/code/", {"code": f"{i:06d}"}).status_code
             for i in range(limit)]
    assert codes == [400] * (limit - 1) + [429]
    assert "_auth_user_id" not in client.session
    # The right password and the right code, even from elsewhere, wait for the cool-off.
    assert password(web("192.0.2.9"), "ana", PASSWORD).status_code == 429


def test_wrong_codes_while_setting_up_count_too(db, limit, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    make_staff("new", "dispatcher", second_factor=False)
    client = web()
    password(client, "new", PASSWORD)
    client.get("/login/set-up/")
    codes = [client.post("/login/set-up/", {"code": f"{i:06d}"}).status_code
             for i in range(limit)]
    assert codes[-1] == 429


def test_passwords_and_codes_add_up(staff, limit, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client = web()
    for _ in range(limit - 1):
        password(client, "ana", "guess")
    assert password(client, "ana", PASSWORD).status_code == 302
    assert client.post("/login/code/", {"code": "000000"}).status_code == 429


def test_both_factors_start_the_accounts_count_again(staff, limit):
    for i in range(limit - 1):
        password(web(f"198.51.100.{i}"), "ana", "guess")
    client = web("192.0.2.4")
    password(client, "ana", PASSWORD)
    assert client.post("/login/code/", {"code": fresh_code(staff.user)}).status_code == 302
    again = [password(web(f"198.51.100.{100 + i}"), "ana", "guess").status_code
             for i in range(limit)]
    assert again == [400] * (limit - 1) + [429]


# --- the API ---------------------------------------------------------------------------------


def token(client: Client, username: str, secret: str, otp: str = "") -> Any:
    return client.post("/api/v1/auth/token",
                       {"username": username, "password": secret, "otp": otp},
                       content_type=JSON)


def test_the_api_locks_out_after_wrong_passwords(staff, limit):
    codes = [token(web(f"198.51.100.{i}"), "ana", "guess").status_code for i in range(limit)]
    assert codes == [401] * (limit - 1) + [429]
    response = token(web("192.0.2.50"), "ana", PASSWORD, fresh_code(staff.user))
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.json()["detail"]
    assert not ApiToken.objects.filter(user=staff.user).exists()


def test_the_api_locks_the_address_out(staff, limit):
    client = web()
    codes = [token(client, f"user{i}", "guess").status_code for i in range(limit)]
    assert codes[-1] == 429
    assert token(client, "ana", PASSWORD, fresh_code(staff.user)).status_code == 429


def test_the_api_locks_out_after_wrong_codes(staff, limit, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    codes = [token(web(), "ana", PASSWORD, f"{i:06d}").status_code for i in range(limit)]
    assert codes == [401] * (limit - 1) + [429]
    assert token(web("192.0.2.51"), "ana", PASSWORD, fresh_code(staff.user)).status_code == 429


def test_the_api_lockout_message_is_in_spanish(staff, limit):
    for _ in range(limit):
        response = token(web(language="es"), "ana", "guess")
    assert "Demasiados intentos fallidos" in response.json()["detail"]


# --- what is kept -----------------------------------------------------------------------------


def test_no_address_is_written_to_the_database(staff, limit):
    for _ in range(limit + 2):
        password(web(), "ana", "guess")
        token(web(), "ana", "guess")
    assert not AccessAttempt.objects.exists()
    assert not AccessLog.objects.exists()
    assert not AccessFailureLog.objects.exists()
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert ADDRESS not in dump.getvalue()


def test_logs_name_neither_the_address_nor_the_username(staff, limit, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(limit):
        password(web(), "ana-typed-her-password-here", "guess")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "AXES" in text  # the attempts are logged...
    assert ADDRESS not in text and "ana-typed-her-password-here" not in text  # ...anonymously
