"""Staff sign in with a password and a second factor (an authenticator app, or a recovery
code), on every page and for API tokens; one who has none yet sets it up first."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from rapidresponse.accounts import secondfactor
from rapidresponse.accounts.middleware import OPEN_BEFORE_SECOND_FACTOR
from rapidresponse.accounts.models import ApiToken
from tests.conftest import PASSWORD, fresh_code, make_staff

JSON = "application/json"

# --- every page of the URL map ------------------------------------------------------------


def _routes(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(path, url name) of every route written with path() (admin's regex routes are the
    admin's own; its index is a path() route), with 1 or "x" for each parameter."""
    found: list[tuple[str, str]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if isinstance(entry.pattern, RoutePattern):
                found += _routes(entry.url_patterns, prefix + str(entry.pattern),
                                 entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and isinstance(entry.pattern, RoutePattern):
            name = entry.name or ""
            if not namespace and name in OPEN_BEFORE_SECOND_FACTOR:
                continue
            path = re.sub(r"<(?:(\w+):)?\w+>",
                          lambda m: "1" if m.group(1) == "int" else "x",
                          prefix + str(entry.pattern))
            found.append(("/" + path, f"{namespace}:{name}" if namespace else name))
    return found


def staff_urls() -> list[tuple[str, str]]:
    return _routes(get_resolver().url_patterns)


def test_the_url_map_is_read_whole():
    names = {name for _, name in staff_urls()}
    for page in ("console", "verify_list", "members", "message_log", "dead_letters",
                 "sms_thread", "account", "admin:index", "home"):
        assert page in names
    assert any(path.startswith("/api/v1/") for path, _ in staff_urls())


def _refusals(client: Client, expected_step: str) -> list[str]:
    wrong = []
    for path, name in staff_urls():
        response = client.get(path)
        if path.startswith("/api/"):
            if response.status_code != 401 or "second factor" not in response.json()["detail"]:
                wrong.append(f"{name} {path}: {response.status_code}")
        elif response.status_code != 302 or not response["Location"].startswith(expected_step):
            wrong.append(f"{name} {path}: {response.status_code} {response.get('Location')}")
    return wrong


def test_without_a_second_factor_every_page_leads_to_setting_one_up(newcomer):
    assert _refusals(newcomer.client, "/login/set-up/?next=") == []


def test_with_only_the_password_every_page_asks_for_the_code(db):
    make_staff("halfway", "coordinator")
    client = Client()
    client.post("/login/", {"username": "halfway", "password": PASSWORD})
    assert _refusals(client, "/login/code/?next=") == []


def test_after_both_factors_no_page_asks_for_them_again(coordinator):
    wrong = [f"{name} {path}" for path, name in staff_urls()
             if (r := coordinator.client.get(path)).status_code in (301, 302)
             and r["Location"].startswith(("/login/code/", "/login/set-up/"))]
    assert wrong == []


def test_the_page_asked_for_is_where_the_code_leads(db):
    staff = make_staff("halfway", "dispatcher")
    client = Client()
    response = client.post("/login/", {"username": "halfway", "password": PASSWORD,
                                       "next": "/console/messages/"})
    assert response["Location"] == "/login/code/?next=%2Fconsole%2Fmessages%2F"
    response = client.post("/login/code/", {"code": fresh_code(staff.user),
                                            "next": "/console/messages/"})
    assert response.status_code == 302 and response["Location"] == "/console/messages/"
    assert client.get("/console/messages/").status_code == 200


def test_the_code_step_does_not_lead_to_another_site(db):
    staff = make_staff("halfway", "dispatcher")
    client = Client()
    client.post("/login/", {"username": "halfway", "password": PASSWORD})
    response = client.post("/login/code/", {"code": fresh_code(staff.user),
                                            "next": "https://evil.example/console/"})
    assert response["Location"] == "/console/"


def test_a_wrong_code_is_refused_with_a_message(db):
    make_staff("halfway", "dispatcher")
    client = Client()
    client.post("/login/", {"username": "halfway", "password": PASSWORD})
    response = client.post("/login/code/", {"code": "000000"})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert client.get("/console/")["Location"].startswith("/login/code/")


def test_a_code_works_once(db):
    staff = make_staff("halfway", "dispatcher")
    code = fresh_code(staff.user)
    first, second = Client(), Client()
    for client in (first, second):
        client.post("/login/", {"username": "halfway", "password": PASSWORD})
    assert first.post("/login/code/", {"code": code}).status_code == 302
    assert second.post("/login/code/", {"code": code}).status_code == 400


def test_the_code_step_is_in_spanish(db):
    make_staff("halfway", "dispatcher")
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.post("/login/", {"username": "halfway", "password": PASSWORD})
    page = client.get("/login/code/").content.decode()
    assert "Abra su aplicación de autenticación" in page
    response = client.post("/login/code/", {"code": "000000"})
    assert "Ese código no es correcto" in response.content.decode()


def test_signing_in_gives_a_new_session_key(db):
    staff = make_staff("halfway", "dispatcher")
    client = Client()
    client.post("/login/", {"username": "halfway", "password": PASSWORD})
    before = client.session.session_key
    client.post("/login/code/", {"code": fresh_code(staff.user)})
    assert client.session.session_key != before


def test_the_staff_menu_waits_for_the_second_factor(db):
    make_staff("halfway", "coordinator")
    client = Client()
    client.post("/login/", {"username": "halfway", "password": PASSWORD})
    page = client.get("/login/code/").content.decode()
    assert "Console" not in page and "Members" not in page
    assert "Sign out" in page


# --- setting it up ------------------------------------------------------------------------


def _secret_on(page: str) -> bytes:
    text = re.search(r'<code class="secret" id="secret">([A-Z2-7 ]+)</code>', page)
    assert text is not None, page
    letters = text.group(1).replace(" ", "")
    return b32decode(letters + "=" * (-len(letters) % 8))


def _code_for(secret: bytes) -> str:
    return f"{totp(secret):06d}"


def test_the_setup_page_shows_the_secret_as_a_qr_code_and_as_text(newcomer):
    response = newcomer.client.get("/login/set-up/")
    page = response.content.decode()
    assert response.status_code == 200
    secret = _secret_on(page)
    device = TOTPDevice.objects.get(user=newcomer.user)
    assert not device.confirmed and device.bin_key == secret
    # The QR code is drawn here, inline: the secret goes to no other server.
    assert secondfactor.qr_svg(device) in page
    assert re.search(r'<img[^>]+src="https?://', page) is None
    # On the phone itself, the app opens from a link.
    assert f'href="{device.config_url.replace("&", "&amp;")}"' in page


def test_reloading_the_setup_page_keeps_the_same_secret(newcomer):
    first = _secret_on(newcomer.client.get("/login/set-up/").content.decode())
    second = _secret_on(newcomer.client.get("/login/set-up/").content.decode())
    assert first == second


def test_confirming_with_the_apps_code_signs_in_and_shows_recovery_codes(newcomer):
    secret = _secret_on(newcomer.client.get("/login/set-up/").content.decode())
    response = newcomer.client.post("/login/set-up/", {"code": _code_for(secret),
                                                       "next": "/console/"})
    page = response.content.decode()
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/console/"' in page
    assert newcomer.client.get("/console/").status_code == 200
    assert TOTPDevice.objects.get(user=newcomer.user).confirmed


def test_a_wrong_code_does_not_confirm_the_app(newcomer):
    newcomer.client.get("/login/set-up/")
    response = newcomer.client.post("/login/set-up/", {"code": "123456"})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=newcomer.user).confirmed
    assert newcomer.client.get("/console/")["Location"].startswith("/login/set-up/")


def _set_up(newcomer: Any) -> tuple[bytes, list[str]]:
    secret = _secret_on(newcomer.client.get("/login/set-up/").content.decode())
    page = newcomer.client.post("/login/set-up/", {"code": _code_for(secret)}).content.decode()
    return secret, re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)


def test_recovery_codes_are_shown_only_once(newcomer):
    _, codes = _set_up(newcomer)
    assert newcomer.client.get("/account/recovery-codes/").status_code == 405
    account = newcomer.client.get("/account/").content.decode()
    assert not any(code in account for code in codes)
    assert "You have 10 unused recovery codes." in account
    again = newcomer.client.get("/login/set-up/")  # signed in: this would set up a new app
    assert not any(code in again.content.decode() for code in codes)


def _password_only(username: str) -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": PASSWORD}
                       ).status_code == 302
    return client


def test_a_recovery_code_signs_in_once(newcomer):
    _, codes = _set_up(newcomer)
    first = _password_only("newbie")
    response = first.post("/login/code/", {"code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302
    assert first.get("/console/").status_code == 200
    second = _password_only("newbie")
    assert second.post("/login/code/", {"code": codes[0]}).status_code == 400
    assert second.get("/console/")["Location"].startswith("/login/code/")


def test_signing_in_with_a_recovery_code_says_how_many_are_left(newcomer):
    _, codes = _set_up(newcomer)
    client = _password_only("newbie")
    response = client.post("/login/code/", {"code": codes[3]}, follow=True)
    assert "9 are left" in response.content.decode()


def test_new_recovery_codes_replace_the_old_ones(newcomer):
    _, old = _set_up(newcomer)
    page = newcomer.client.post("/account/recovery-codes/").content.decode()
    new = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert _password_only("newbie").post("/login/code/", {"code": new[0]}).status_code == 302
    assert _password_only("newbie").post("/login/code/", {"code": old[0]}).status_code == 400


def test_right_after_a_wrong_code_the_next_one_waits_a_moment(db):
    staff = make_staff("halfway", "dispatcher")
    client = _password_only("halfway")
    assert client.post("/login/code/", {"code": "000000"}).status_code == 400
    response = client.post("/login/code/", {"code": fresh_code(staff.user)})
    assert response.status_code == 400
    assert "wait 1 second" in response.content.decode()
    time.sleep(1.1)
    assert client.post("/login/code/", {"code": fresh_code(staff.user)}).status_code == 302


def test_a_new_phone_replaces_the_old_app(newcomer):
    old_secret, _ = _set_up(newcomer)
    page = newcomer.client.get("/login/set-up/").content.decode()
    new_secret = _secret_on(page)
    assert new_secret != old_secret
    assert newcomer.client.post("/login/set-up/", {"code": _code_for(new_secret)}
                                ).status_code == 200
    assert TOTPDevice.objects.filter(user=newcomer.user).count() == 1
    assert TOTPDevice.objects.get(user=newcomer.user).bin_key == new_secret


def test_someone_with_an_app_cannot_set_up_another_with_the_password_alone(db):
    make_staff("halfway", "dispatcher")
    client = _password_only("halfway")
    response = client.get("/login/set-up/")
    assert response.status_code == 302 and response["Location"].startswith("/login/code/")
    assert client.post("/login/set-up/", {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user__username="halfway").count() == 1


def test_the_account_page_shows_role_and_zones(coordinator, zone):
    coordinator.staff.zones.add(zone)
    coordinator.staff.network_wide = False  # the personas work network-wide
    coordinator.staff.save()
    page = coordinator.client.get("/account/").content.decode()
    assert "Coordinator" in page and "Boyle Heights" in page


def test_the_account_page_says_when_no_zone_is_set(dispatcher):
    dispatcher.staff.network_wide = False
    dispatcher.staff.save()
    page = dispatcher.client.get("/account/").content.decode()
    assert "None yet" in page


def test_the_account_page_says_when_someone_works_network_wide(dispatcher):
    page = dispatcher.client.get("/account/").content.decode()
    assert "The whole network" in page


# --- the API --------------------------------------------------------------------------------


def _token(username: str, otp: str | None, language: str = "en") -> Any:
    body = {"username": username, "password": PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return Client(HTTP_ACCEPT_LANGUAGE=language).post("/api/v1/auth/token", body,
                                                      content_type=JSON)


def test_a_token_needs_the_code(db):
    make_staff("api", "dispatcher")
    response = _token("api", None)
    assert response.status_code == 401
    assert "otp" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_a_token_is_refused_with_a_wrong_code(db):
    make_staff("api", "dispatcher")
    response = _token("api", "000000")
    assert response.status_code == 401
    assert "not right" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_the_code_messages_are_in_spanish(db):
    make_staff("api", "dispatcher")
    missing = _token("api", None, "es").json()["detail"]
    wrong = _token("api", "000000", "es").json()["detail"]
    assert "código" in missing and "código" in wrong


def test_a_token_with_both_factors(db):
    staff = make_staff("api", "dispatcher")
    response = _token("api", fresh_code(staff.user))
    assert response.status_code == 200 and response.json()["token"].startswith("rr_")


def test_a_token_with_a_recovery_code_uses_it_up(newcomer):
    _, codes = _set_up(newcomer)
    assert _token("newbie", codes[1]).status_code == 200
    assert _token("newbie", codes[1]).status_code == 401


def test_no_token_before_an_app_is_set_up(newcomer):
    response = _token("newbie", "123456")
    assert response.status_code == 401
    assert "authenticator" in response.json()["detail"]


def test_a_wrong_password_with_a_right_code_says_only_wrong_password(db):
    staff = make_staff("api", "dispatcher")
    response = Client().post("/api/v1/auth/token",
                             {"username": "api", "password": "not-it-at-all",
                              "otp": fresh_code(staff.user)}, content_type=JSON)
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong username or password."


# --- the admin site ------------------------------------------------------------------------


def test_admin_needs_the_second_factor(db):
    staff = make_staff("boss", "coordinator")
    staff.user.is_staff = True
    staff.user.save()
    client = _password_only("boss")
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/login/code/")
    client.post("/login/code/", {"code": fresh_code(staff.user)})
    assert client.get("/admin/").status_code == 200


def test_the_admin_sign_in_form_signs_no_one_in(db):
    staff = make_staff("boss", "coordinator")
    staff.user.is_staff = True
    staff.user.save()
    client = Client()
    response = client.post("/admin/login/?next=/admin/",
                           {"username": "boss", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_signing_in_elsewhere_leads_back_to_the_admin(db):
    staff = make_staff("boss", "coordinator")
    staff.user.is_staff = True
    staff.user.save()
    client = Client()
    client.post("/login/", {"username": "boss", "password": PASSWORD, "next": "/admin/"})
    response = client.post("/login/code/", {"code": fresh_code(staff.user), "next": "/admin/"})
    assert response["Location"] == "/admin/"
