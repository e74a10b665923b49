"""A member's own settings page at /me/: signing in with a one-time code, changing language,
channels and places, browser push subscriptions, and leaving. English and Spanish."""

from __future__ import annotations

import base64
import html
import json
import os
import re
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client, RequestFactory
from django.utils import timezone

from rapidresponse.channels.push.models import PushEndpoint
from rapidresponse.channels.push.subscriptions import (
    MAX_BROWSERS,
    browsers_of,
    endpoint_index,
)
from rapidresponse.codes.actions import CODES_PER_DESTINATION_PER_HOUR
from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import ConsoleMessage
from rapidresponse.lib import geo
from rapidresponse.members.models import ContactPoint, Member
from rapidresponse.membership import signin as selfservice
from tests.codes_support import current
from tests.conftest import BOYLE, FAR, make_member
from tests.test_members import all_stored_text
from tests.test_signup import spanish, wrong

pytestmark = pytest.mark.usefixtures("inbox")
PHONE = "+12135550123"
ENDPOINT = "https://push.example.net/send/abc123"


def text_of(response: Any) -> str:
    return html.unescape(response.content.decode())


def normalised_page(response: Any) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def last_code(member: Member) -> str:
    """The code as the member got it (the console backend's standard output)."""
    return current().code(member)


def signed_in(member: Member, contact: str = PHONE, **headers: Any) -> Client:
    client = Client(**headers)
    client.post("/me/", {"contact": contact})
    response = client.post("/me/code/", {"contact": contact, "code": last_code(member)})
    assert response.status_code == 302 and response["Location"] == "/me/"
    return client


def settings_form(member: Member, **overrides: Any) -> dict[str, Any]:
    """What the settings page sends back when nothing is changed."""
    data: dict[str, Any] = {"name": member.name, "language": member.language,
                            "channels": [c.kind for c in member.contacts.filter(enabled=True)]}
    for area in member.watch_areas.all():
        data[f"label_{area.pk}"] = area.label
        data[f"radius_{area.pk}"] = str(area.radius_m)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def browser_keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"p256dh": base64.urlsafe_b64encode(key).rstrip(b"=").decode(),
            "auth": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()}


def subscribe(client: Client, body: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/me/push/subscribe/", raw, content_type="application/json")


@pytest.fixture
def ana(db: Any) -> Member:
    return make_member("Ana", "es", phone=PHONE, email="ana@example.com")


# --- asking for a code ---------------------------------------------------------------------


@pytest.mark.parametrize("lang,text", [
    ("en", "Your alert settings"),
    ("es", "Sus ajustes de alertas"),
])
def test_the_sign_in_page_is_in_the_readers_language(client, db, lang, text):
    response = client.get("/me/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    assert text in text_of(response)


def test_asking_for_a_code_answers_the_same_for_members_and_strangers(ana):
    member_page = Client().post("/me/", {"contact": PHONE})
    stranger_page = Client().post("/me/", {"contact": PHONE[:-1] + "9"})
    assert member_page.status_code == stranger_page.status_code == 200
    assert normalised_page(member_page).replace("0123", "X") == normalised_page(
        stranger_page).replace("0129", "X")


def test_a_code_is_sent_only_to_a_member(client, ana):
    client.post("/me/", {"contact": "(213) 555-0123"})
    client.post("/me/", {"contact": "(213) 555-0199"})
    outbox.drain()
    message = ConsoleMessage.objects.get()
    assert message.member_id == ana.pk and message.channel == "sms"


def test_the_code_comes_in_the_members_language(client, ana):
    client.post("/me/", {"contact": PHONE}, HTTP_ACCEPT_LANGUAGE="en")
    outbox.drain()
    message = ConsoleMessage.objects.get(member=ana)
    assert message.language == "es"
    assert "ajustes" in message.text


def test_a_code_can_be_asked_for_by_email(client, ana):
    client.post("/me/", {"contact": "ANA@example.com"})
    outbox.drain()
    assert ConsoleMessage.objects.get(member=ana).channel == "email"


def test_someone_who_left_gets_no_code(client, ana):
    from rapidresponse.members.actions import do_opt_out

    do_opt_out(ana)
    client.post("/me/", {"contact": PHONE})
    outbox.drain()
    assert not ConsoleMessage.objects.exists()


def test_a_contact_not_yet_confirmed_gets_no_code(client, ana):
    ana.contacts.filter(kind="email").update(verified_at=None)
    client.post("/me/", {"contact": "ana@example.com"})
    outbox.drain()
    assert not ConsoleMessage.objects.exists()


def test_asking_with_a_bad_phone_gets_a_clear_message_in_spanish(client, db):
    response = client.post("/me/", {"contact": "hola"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("This is not a phone number.") in text_of(response)


def test_asking_with_nothing_gets_a_clear_message(client, db):
    response = client.post("/me/", {"contact": " "})
    assert response.status_code == 400
    assert "Enter the phone number or email address you signed up with." in text_of(response)


def test_too_many_requests_from_one_place_are_refused(client, db):
    for _ in range(10):
        client.post("/me/", {"contact": PHONE})
    response = client.post("/me/", {"contact": PHONE})
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response)


def test_one_phone_cannot_be_flooded_with_codes(ana):
    for i in range(8):
        Client(REMOTE_ADDR=f"10.0.0.{i}").post("/me/", {"contact": PHONE})
        outbox.drain()
    assert ConsoleMessage.objects.filter(member=ana).count() == CODES_PER_DESTINATION_PER_HOUR


# --- entering the code ---------------------------------------------------------------------


def test_the_right_code_opens_the_settings(ana):
    client = signed_in(ana)
    response = client.get("/me/")
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="me-form"' in page and "***0123" in page


def test_a_wrong_code_answers_like_a_stranger(ana):
    member_client, stranger_client = Client(), Client()
    member_client.post("/me/", {"contact": PHONE})
    code = last_code(ana)
    stranger_client.post("/me/", {"contact": "+12135550199"})
    a = member_client.post("/me/code/", {"contact": PHONE, "code": wrong(code)})
    b = stranger_client.post("/me/code/", {"contact": "+12135550199", "code": code})
    assert a.status_code == b.status_code == 400
    assert normalised_page(a).replace("0123", "X") == normalised_page(b).replace("0199", "X")
    assert "rr_member" not in a.cookies or not a.cookies["rr_member"].value


def test_a_code_works_only_once(ana):
    client = Client()
    client.post("/me/", {"contact": PHONE})
    code = last_code(ana)
    assert client.post("/me/code/", {"contact": PHONE, "code": code}).status_code == 302
    assert Client().post("/me/code/", {"contact": PHONE, "code": code}).status_code == 400


def test_an_expired_code_does_not_work(ana):
    client = Client()
    client.post("/me/", {"contact": PHONE})
    code = last_code(ana)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.post("/me/code/", {"contact": PHONE, "code": code}).status_code == 400


def test_a_code_stops_working_after_too_many_wrong_tries(ana):
    client = Client()
    client.post("/me/", {"contact": PHONE})
    code = last_code(ana)
    for _ in range(selfservice.SIGN_IN.max_attempts):
        client.post("/me/code/", {"contact": PHONE, "code": wrong(code)})
    assert client.post("/me/code/", {"contact": PHONE, "code": code}).status_code == 400


def test_the_sign_in_code_table_keeps_only_a_hash(ana):
    Client().post("/me/", {"contact": PHONE})
    code = last_code(ana)
    assert code not in str(list(OneTimeCode.objects.values_list()))


# --- the session ---------------------------------------------------------------------------


def test_the_session_cookie_holds_only_the_member_id(ana):
    client = signed_in(ana)
    cookie = client.cookies["rr_member"]
    request = RequestFactory().get("/me/")
    request.COOKIES["rr_member"] = cookie.value
    assert request.get_signed_cookie("rr_member", salt=selfservice.COOKIE_SALT) == str(ana.pk)
    assert cookie.value.split(":")[0] == str(ana.pk)  # signed, not encrypted: nothing else
    assert cookie["httponly"] and cookie["path"] == "/me/"
    assert int(cookie["max-age"]) <= 3600


def test_a_session_older_than_an_hour_is_refused(ana):
    client = signed_in(ana)
    later = timezone.now().timestamp() + selfservice.SESSION_AGE.total_seconds() + 60
    with mock.patch("time.time", return_value=later):
        response = client.get("/me/")
    assert 'name="contact"' in text_of(response)
    assert 'id="me-form"' not in text_of(response)


def test_a_forged_cookie_opens_nothing(ana):
    other = make_member("Rosa", "en", phone="+12135550124")
    client = signed_in(ana)
    value = client.cookies["rr_member"].value
    client.cookies["rr_member"] = value.replace(str(ana.pk), str(other.pk), 1)
    response = client.get("/me/")
    assert "***0124" not in text_of(response)
    assert 'id="me-form"' not in text_of(response)


def test_signing_out_closes_the_settings(ana):
    client = signed_in(ana)
    client.post("/me/sign-out/")
    assert 'id="me-form"' not in text_of(client.get("/me/"))


def test_an_expired_session_does_not_replace_the_offline_copy(ana):
    """The sign-in form tells the service worker not to keep it over the settings page."""
    assert Client().get("/me/")["X-RR-Offline"] == "skip"
    assert "X-RR-Offline" not in signed_in(ana).get("/me/")


def test_saving_without_a_session_is_refused(ana):
    response = Client().post("/me/save/", settings_form(ana, language="en"))
    assert response.status_code == 403
    ana.refresh_from_db()
    assert ana.language == "es"


def test_the_settings_page_is_not_kept_by_shared_caches(ana):
    response = signed_in(ana).get("/me/")
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


# --- changing settings ---------------------------------------------------------------------


def test_a_member_changes_their_language(ana):
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, language="en"))
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.language == "en"


def test_saving_says_so_in_the_readers_language(ana):
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana), follow=True,
                           HTTP_ACCEPT_LANGUAGE="es")
    assert spanish("Your settings are saved.") in text_of(response)


def test_a_member_turns_a_channel_off(ana):
    client = signed_in(ana)
    client.post("/me/save/", settings_form(ana, channels=["email"]))
    enabled = dict(ana.contacts.values_list("kind", "enabled"))
    assert enabled == {"sms": False, "email": True}


def test_turning_every_channel_off_is_refused_with_a_way_out(ana):
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, channels=None),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("Choose at least one way to get alerts, or stop all alerts below.") in \
        text_of(response)
    assert set(ana.contacts.values_list("enabled", flat=True)) == {True}


def test_a_channel_without_a_contact_is_refused(db):
    member = make_member("Luis", "en", phone=PHONE)
    client = signed_in(member)
    response = client.post("/me/save/", settings_form(member, channels=["sms", "email"]))
    assert response.status_code == 400
    assert "You have no contact for: email." in text_of(response)


def test_a_member_widens_a_place(ana):
    area = ana.watch_areas.get()
    client = signed_in(ana)
    client.post("/me/save/", settings_form(ana, **{f"radius_{area.pk}": "3000"}))
    widened = ana.watch_areas.get()
    assert widened.cell == area.cell and widened.radius_m == 3000
    assert widened.rings > area.rings


def test_a_member_adds_a_place_from_a_neighbourhood(ana, zone):
    client = signed_in(ana)
    client.post("/me/save/", settings_form(ana, zone_new=str(zone.pk), label_new="school",
                                           radius_new="500"))
    assert sorted(ana.watch_areas.values_list("label", flat=True)) == ["home", "school"]


def test_a_place_added_on_the_map_keeps_only_a_coarse_cell(ana):
    client = signed_in(ana)
    client.post("/me/save/", settings_form(ana, latitude_new=str(FAR[0]),
                                           longitude_new=str(FAR[1]), label_new="work"))
    work = ana.watch_areas.get(label="work")
    assert work.cell == geo.cell_for(*FAR, 8)
    assert str(FAR[0]) not in all_stored_text()


def test_a_member_removes_a_place_when_another_remains(ana, zone):
    client = signed_in(ana)
    client.post("/me/save/", settings_form(ana, zone_new=str(zone.pk), label_new="work"))
    home = ana.watch_areas.get(label="home")
    client.post("/me/save/", settings_form(ana, **{f"remove_{home.pk}": "yes"}))
    assert list(ana.watch_areas.values_list("label", flat=True)) == ["work"]


def test_removing_the_last_place_is_refused_and_keeps_what_was_typed(ana):
    area = ana.watch_areas.get()
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, name="Ana María", **{
        f"remove_{area.pk}": "yes"}))
    assert response.status_code == 400
    page = text_of(response)
    assert "Choose a place on the map or a neighbourhood." in page
    assert 'value="Ana María"' in page
    assert ana.watch_areas.count() == 1


def test_a_radius_out_of_range_is_refused_and_changes_nothing(ana):
    area = ana.watch_areas.get()
    client = signed_in(ana)
    response = client.post("/me/save/", settings_form(ana, language="en", **{
        f"radius_{area.pk}": "90000"}), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("The radius must be between %(min)s and %(max)s metres.") % {
        "min": 200, "max": 5000} in text_of(response)
    ana.refresh_from_db()
    assert ana.language == "es" and ana.watch_areas.get().radius_m == area.radius_m


def test_another_members_place_cannot_be_changed(ana):
    other = make_member("Rosa", "en", phone="+12135550124", at=BOYLE)
    theirs = other.watch_areas.get()
    client = signed_in(ana)
    client.post("/me/save/", settings_form(ana, **{f"remove_{theirs.pk}": "yes",
                                                   f"radius_{theirs.pk}": "5000"}))
    assert other.watch_areas.get().radius_m == theirs.radius_m


# --- leaving from the settings page -------------------------------------------------------


def test_leaving_from_the_settings_page_opts_out_and_signs_out(ana):
    client = signed_in(ana)
    response = client.post("/me/leave/", {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == "/leave/done/"
    ana.refresh_from_db()
    assert ana.status == Member.Status.OPTED_OUT
    assert 'id="me-form"' not in text_of(client.get("/me/"))


def test_leaving_clears_the_browsers_offline_copy(ana):
    response = signed_in(ana).post("/me/leave/", {"confirm": "yes"})
    assert '"storage"' in response["Clear-Site-Data"]


def test_leaving_needs_the_box_ticked(ana):
    client = signed_in(ana)
    response = client.post("/me/leave/", {}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert spanish("Tick the box to confirm that you want to stop all alerts.") in \
        text_of(response)
    ana.refresh_from_db()
    assert ana.status == Member.Status.ACTIVE


# --- push subscriptions ---------------------------------------------------------------------


def test_subscribing_stores_the_browser_as_an_encrypted_push_contact(ana):
    client = signed_in(ana)
    keys = browser_keys()
    response = subscribe(client, {"endpoint": ENDPOINT, "keys": keys})
    assert response.status_code == 201
    contact = ana.contacts.get(kind="push")
    assert json.loads(contact.value) == [{"endpoint": ENDPOINT, "keys": keys}]
    assert contact.enabled and contact.verified_at is not None
    # Found again by the endpoint's blind index, never by the endpoint itself.
    assert PushEndpoint.objects.get(contact=contact).endpoint_index == endpoint_index(ENDPOINT)
    stored = all_stored_text()
    assert "push.example.net" not in stored and keys["auth"] not in stored


def test_subscribing_needs_the_csrf_token(ana):
    client = signed_in(ana)
    client.handler.enforce_csrf_checks = True
    response = subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    assert response.status_code == 403
    assert not ana.contacts.filter(kind="push").exists()


def test_subscribing_needs_a_session(ana):
    response = subscribe(Client(), {"endpoint": ENDPOINT, "keys": browser_keys()})
    assert response.status_code == 403
    assert not ContactPoint.objects.filter(kind="push").exists()


@pytest.mark.parametrize("body,field", [
    ("not json", "subscription"),
    ([1, 2], "subscription"),
    ({"endpoint": "http://push.example.net/x", "keys": "K"}, "endpoint"),
    ({"endpoint": "ftp://push.example.net/x", "keys": "K"}, "endpoint"),
    ({"endpoint": "https://user:pw@push.example.net/x", "keys": "K"}, "endpoint"),
    ({"endpoint": "https://" + "a" * 2100 + ".net/", "keys": "K"}, "endpoint"),
    ({"endpoint": ENDPOINT, "keys": {"p256dh": "AAAA", "auth": "K"}}, "p256dh"),
    ({"endpoint": ENDPOINT, "keys": {"p256dh": base64.urlsafe_b64encode(
        b"\x04" + b"\x01" * 64).decode(), "auth": "K"}}, "p256dh"),
    ({"endpoint": ENDPOINT, "keys": {"p256dh": "K", "auth": "c2hvcnQ"}}, "auth"),
    ({"endpoint": ENDPOINT, "keys": {"p256dh": "K", "auth": "not base64!"}}, "auth"),
])
def test_a_bad_subscription_gets_a_clear_400(ana, body, field):
    keys = browser_keys()
    if isinstance(body, dict):
        body = {**body, "keys": {k: keys[k] if v == "K" else v
                                 for k, v in (body["keys"] if isinstance(body["keys"], dict)
                                              else keys).items()}}
    response = subscribe(signed_in(ana), body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["error"]
    assert not ana.contacts.filter(kind="push").exists()


def test_a_bad_subscription_is_explained_in_spanish(ana):
    client = signed_in(ana, HTTP_ACCEPT_LANGUAGE="es")
    response = subscribe(client, {"endpoint": "http://push.example.net/x", "keys": browser_keys()})
    assert response.json()["errors"]["endpoint"] == spanish(
        "The push endpoint must be an https address.")


def test_a_push_service_on_loopback_is_allowed_outside_production(ana):
    response = subscribe(signed_in(ana), {"endpoint": "http://127.0.0.1:8123/push/1",
                                          "keys": browser_keys()})
    assert response.status_code == 201


def test_in_production_only_public_push_services_are_allowed(ana, settings):
    client = signed_in(ana)
    settings.PRODUCTION = True
    settings.VAPID_PRIVATE_KEY = "x" * 43  # anything: push is offered when a key is given
    for endpoint in ("http://127.0.0.1:8123/push/1", "https://10.0.0.5/push/1",
                     "https://localhost/push/1"):
        response = subscribe(client, {"endpoint": endpoint, "keys": browser_keys()})
        assert response.status_code == 400, endpoint


def endpoints(member: Member) -> list[str]:
    return [b.endpoint for b in browsers_of(member.contacts.filter(kind="push").first())]


def test_subscribing_another_browser_keeps_the_first(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    response = subscribe(client, {"endpoint": ENDPOINT + "-phone", "keys": browser_keys()})
    assert response.status_code == 201 and response.json()["browsers"] == 2
    assert endpoints(ana) == [ENDPOINT, ENDPOINT + "-phone"]
    assert ana.contacts.filter(kind="push").count() == 1  # still one channel
    assert "2 browsers get your alerts: push.example.net." in text_of(client.get("/me/"))


def test_subscribing_the_same_browser_again_does_not_add_it_twice(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    subscribe(client, {"endpoint": ENDPOINT + "-phone", "keys": browser_keys()})
    renewed = browser_keys()
    response = subscribe(client, {"endpoint": ENDPOINT, "keys": renewed})
    assert response.json()["browsers"] == 2
    # Kept once, with the keys the browser gave last, and now counted as the newest.
    assert endpoints(ana) == [ENDPOINT + "-phone", ENDPOINT]
    assert json.loads(ana.contacts.get(kind="push").value)[1]["keys"] == renewed
    assert PushEndpoint.objects.count() == 2
    assert "2 browsers get your alerts" in text_of(client.get("/me/"))


def test_one_browser_more_than_five_replaces_the_least_recently_subscribed(ana):
    assert MAX_BROWSERS == 5
    client = signed_in(ana)
    for n in range(1, 6):
        subscribe(client, {"endpoint": f"{ENDPOINT}-{n}", "keys": browser_keys()})
    # The first browser is turned on again: now the second is the least recently subscribed.
    subscribe(client, {"endpoint": f"{ENDPOINT}-1", "keys": browser_keys()})
    response = subscribe(client, {"endpoint": "https://fcm.googleapis.com/fcm/send/6",
                                  "keys": browser_keys()})
    assert response.json() == {"ok": True, "channel": "push", "browsers": 5, "replaced": 1}
    assert endpoints(ana) == [f"{ENDPOINT}-{n}" for n in (3, 4, 5, 1)] + [
        "https://fcm.googleapis.com/fcm/send/6"]
    assert not PushEndpoint.objects.filter(endpoint_index=endpoint_index(f"{ENDPOINT}-2"))
    page = text_of(client.get("/me/"))
    assert ("Alerts are now on in this browser and off in the one where you turned them on "
            "longest ago (push.example.net): they go to at most 5 browsers.") in page
    assert "5 browsers get your alerts: push.example.net, fcm.googleapis.com." in page


def test_the_settings_page_says_how_many_browsers_the_limit_and_what_happens_after(ana):
    client = signed_in(ana)
    page = text_of(client.get("/me/"))
    assert 'id="push-contact"' not in page
    assert ("You can get alerts in up to 5 browsers, for example on your phone and your "
            "computer. Turning them on in one more turns them off in the browser where you "
            "turned them on longest ago.") in page
    subscribe(client, {"endpoint": "https://fcm.googleapis.com/fcm/send/a",
                       "keys": browser_keys()})
    assert "1 browser gets your alerts: fcm.googleapis.com." in text_of(client.get("/me/"))
    subscribe(client, {"endpoint": "https://updates.push.services.mozilla.com/wpush/v2/b",
                       "keys": browser_keys()})
    page = text_of(client.get("/me/"))
    assert ("2 browsers get your alerts: fcm.googleapis.com, "
            "updates.push.services.mozilla.com.") in page
    # In the channel list too, by push service only.
    assert "2 browsers: fcm.googleapis.com, updates.push.services.mozilla.com" in page
    assert "/fcm/send/a" not in page and "/wpush/v2/b" not in page


def test_the_browsers_are_counted_in_spanish(ana):
    client = signed_in(ana, HTTP_ACCEPT_LANGUAGE="es")
    for n in (1, 2):
        subscribe(client, {"endpoint": f"{ENDPOINT}-{n}", "keys": browser_keys()})
    page = text_of(client.get("/me/"))
    assert "2 navegadores reciben sus alertas: push.example.net." in page
    assert "2 navegadores: push.example.net" in page  # the channel list
    assert "Desactivar las alertas en todos los navegadores" in page
    assert "Puede recibir alertas en hasta 5 navegadores" in page


def test_push_unticked_in_the_channels_is_said_next_to_the_browsers(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    client.post("/me/save/", settings_form(ana, channels=["sms"]))
    assert ana.contacts.get(kind="push").enabled is False
    page = text_of(client.get("/me/"))
    assert "Web push is not ticked under “Send alerts by” above" in page


def test_a_browser_that_stopped_working_is_not_counted(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    ana.contacts.filter(kind="push").update(disabled_at=timezone.now())
    page = text_of(client.get("/me/"))
    assert 'id="push-contact"' not in page and "stopped working" in page
    # Turning alerts on again starts afresh with this browser.
    subscribe(client, {"endpoint": ENDPOINT + "-new", "keys": browser_keys()})
    assert endpoints(ana) == [ENDPOINT + "-new"]
    assert ana.contacts.get(kind="push").disabled_at is None


def test_a_shared_browser_moves_to_whoever_subscribed_last(ana):
    rosa = make_member("Rosa", "en", phone="+12135550124")
    subscribe(signed_in(ana), {"endpoint": ENDPOINT, "keys": browser_keys()})
    subscribe(signed_in(rosa, "+12135550124"), {"endpoint": ENDPOINT, "keys": browser_keys()})
    assert not ana.contacts.filter(kind="push").exists()
    assert endpoints(rosa) == [ENDPOINT]


def test_a_shared_browser_moving_away_leaves_the_members_other_browsers(ana):
    rosa = make_member("Rosa", "en", phone="+12135550124")
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    subscribe(client, {"endpoint": ENDPOINT + "-phone", "keys": browser_keys()})
    subscribe(signed_in(rosa, "+12135550124"), {"endpoint": ENDPOINT, "keys": browser_keys()})
    assert endpoints(ana) == [ENDPOINT + "-phone"]
    assert endpoints(rosa) == [ENDPOINT]


def test_unsubscribing_this_browser_removes_only_it(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    subscribe(client, {"endpoint": ENDPOINT + "-phone", "keys": browser_keys()})
    response = client.post("/me/push/unsubscribe/", {"endpoint": ENDPOINT},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["removed"] == 1
    assert endpoints(ana) == [ENDPOINT + "-phone"]
    assert "1 browser gets your alerts" in text_of(client.get("/me/"))
    # The last one: the channel goes.
    client.post("/me/push/unsubscribe/", {"endpoint": ENDPOINT + "-phone"},
                content_type="application/json")
    assert not ana.contacts.filter(kind="push").exists()
    assert not PushEndpoint.objects.exists()


def test_unsubscribing_another_browser_leaves_the_subscription(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    response = client.post("/me/push/unsubscribe/", {"endpoint": ENDPOINT + "-other"},
                           content_type="application/json")
    assert response.json()["removed"] == 0
    assert endpoints(ana) == [ENDPOINT]


def test_the_button_turns_off_every_browser_without_javascript(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    subscribe(client, {"endpoint": ENDPOINT + "-phone", "keys": browser_keys()})
    page = text_of(client.get("/me/"))
    assert "Turn off alerts in all browsers" in page
    response = client.post("/me/push/unsubscribe/")
    assert response.status_code == 302
    assert not ana.contacts.filter(kind="push").exists()
    assert not PushEndpoint.objects.exists()
    page = text_of(client.get("/me/"))
    assert "Alerts are off in all your browsers." in page
    assert 'id="push-contact"' not in page


def test_the_page_lets_push_js_recognise_each_of_the_members_browsers(ana):
    import hashlib

    client = signed_in(ana)
    for name in ("a", "b"):
        subscribe(client, {"endpoint": f"{ENDPOINT}-{name}", "keys": browser_keys()})
    marks = [hashlib.sha256(f"{ENDPOINT}-{name}".encode()).hexdigest()[:32]
             for name in ("a", "b")]
    assert f'data-browsers="{" ".join(marks)}"' in text_of(client.get("/me/"))


def test_a_subscribed_browser_is_a_channel_on_the_settings_page(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    page = text_of(client.get("/me/"))
    assert 'name="channels" value="push" checked' in page
    assert "push.example.net" in page


def test_the_settings_page_gives_push_js_the_vapid_public_key(ana):
    from rapidresponse.channels.push import vapid

    page = text_of(signed_in(ana).get("/me/"))
    assert f'data-key="{vapid.keys().public_key}"' in page


def test_leaving_erases_the_push_subscription(ana):
    client = signed_in(ana)
    subscribe(client, {"endpoint": ENDPOINT, "keys": browser_keys()})
    client.post("/me/leave/", {"confirm": "yes"})
    assert ana.contacts.get(kind="push").value_encrypted == ""
