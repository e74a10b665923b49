"""The JSON API under /api/v1: its schema, tokens, what the public may see and what only
staff may do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from rapidresponse.accounts.models import ApiToken
from rapidresponse.alerts.models import Alert
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_request_verification,
    do_resolve,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident
from rapidresponse.lib import geo
from tests.conftest import BOYLE, FAR, fresh_code, make_member, make_staff, persona

JSON = "application/json"
SECRET_NOTES = "Rumour about Juan at the laundromat"


@pytest.fixture
def checker(db: Any) -> Any:
    return make_staff("checker", "verifier").user


@pytest.fixture
def responder(db: Any) -> Any:
    return persona("resp", "responder")


def submit(at: tuple[float, float] = BOYLE, **fields: Any) -> Incident:
    data = {"latitude": at[0], "longitude": at[1], "activity": "arrests", "agency": "ice",
            "notes": SECRET_NOTES, **fields}
    actor = make_staff(f"phone{Incident.objects.count()}", "dispatcher").user \
        if fields.get("is_drill") else None
    return do_submit_report(build_report_input(data), source="web", actor=actor).incident


def confirmed(checker: Any, at: tuple[float, float] = BOYLE, **fields: Any) -> Incident:
    incident = submit(at, **fields)
    do_record_verification(incident, checker, "confirmed")
    incident.refresh_from_db()
    return incident


# --- the schema ----------------------------------------------------------------------------

CONTRACT = [
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/reports"),
    ("get", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{incident_id}"),
    ("post", "/api/v1/incidents/{incident_id}/verification"),
    ("post", "/api/v1/incidents/{incident_id}/resolve"),
    ("get", "/api/v1/incidents/{incident_id}/alerts"),
    ("get", "/api/v1/alerts/{alert_id}/deliveries"),
]


def test_the_schema_is_openapi_3(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
    assert schema["info"]["version"]


@pytest.mark.parametrize(("method", "path"), CONTRACT)
def test_the_schema_lists_the_contract_endpoint(client, db, method, path):
    schema = client.get("/api/v1/openapi.json").json()
    assert method in schema["paths"][path]
    assert schema["paths"][path][method]["responses"]


def test_the_schema_says_reports_answer_201(client, db):
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/reports"]["post"]
    assert "201" in operation["responses"]


def test_the_schema_says_staff_endpoints_need_a_bearer_token(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    operation = schema["paths"]["/api/v1/incidents/{incident_id}/resolve"]["post"]
    assert operation["security"]


def test_every_reference_in_the_schema_resolves(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    assert refs
    for ref in refs:
        target: Any = schema
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref


# --- tokens -------------------------------------------------------------------------------


def test_staff_get_a_token_with_the_right_password(client, dispatcher):
    response = client.post("/api/v1/auth/token",
                           {"username": "disp", "password": "correct-horse-1",
                            "otp": fresh_code(dispatcher.user)},
                           content_type=JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "dispatcher"
    assert body["token"].startswith("rr_")
    assert body["expires_at"]


def test_a_new_token_works_as_a_bearer_token(client, zone, dispatcher, checker):
    incident = confirmed(checker)
    token = client.post("/api/v1/auth/token",
                        {"username": "disp", "password": "correct-horse-1",
                         "otp": fresh_code(dispatcher.user)},
                        content_type=JSON).json()["token"]
    response = client.get(f"/api/v1/incidents/{incident.pk}/alerts",
                          HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert len(response.json()) == 1


def test_only_a_hash_of_the_token_is_stored(client, dispatcher):
    token = client.post("/api/v1/auth/token",
                        {"username": "disp", "password": "correct-horse-1",
                         "otp": fresh_code(dispatcher.user)},
                        content_type=JSON).json()["token"]
    assert not ApiToken.objects.filter(key_hash=token).exists()
    assert all(token not in t.key_hash for t in ApiToken.objects.all())


@pytest.mark.parametrize(("username", "password"), [
    ("disp", "wrong-password"), ("nobody", "correct-horse-1"), ("disp", "")])
def test_a_wrong_password_gets_401(client, dispatcher, username, password):
    response = client.post("/api/v1/auth/token", {"username": username, "password": password,
                                                  "otp": fresh_code(dispatcher.user)},
                           content_type=JSON)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_user_who_is_not_staff_gets_no_token(client, db):
    get_user_model().objects.create_user(username="plain", password="correct-horse-1")
    response = client.post("/api/v1/auth/token",
                           {"username": "plain", "password": "correct-horse-1"},
                           content_type=JSON)
    assert response.status_code == 401


def test_token_requests_are_rate_limited(dispatcher, settings):
    # Wrong passwords also lock the account and the address out, sooner (that is
    # tests/test_signin_lockout.py): here only the limit of requests per address.
    settings.AXES_FAILURE_LIMIT = 100
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")  # not where the persona got its token
    codes = [elsewhere.post("/api/v1/auth/token", {"username": "disp", "password": "nope"},
                            content_type=JSON).status_code for _ in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429


def test_an_expired_token_gets_401(client, zone, dispatcher, checker):
    incident = confirmed(checker)
    ApiToken.objects.filter(user=dispatcher.user).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(f"/api/v1/incidents/{incident.pk}/alerts", **dispatcher.api())
    assert response.status_code == 401
    assert response.json()["detail"]


def test_an_invalid_token_gets_401(client, zone, checker):
    incident = confirmed(checker)
    response = client.get(f"/api/v1/incidents/{incident.pk}/alerts",
                          HTTP_AUTHORIZATION="Bearer rr_made-up")
    assert response.status_code == 401


def test_an_invalid_token_on_a_public_endpoint_gets_401_not_the_public_view(client, zone):
    response = client.get("/api/v1/incidents", HTTP_AUTHORIZATION="Bearer rr_made-up")
    assert response.status_code == 401


def test_a_deactivated_users_token_stops_working(client, zone, dispatcher):
    dispatcher.user.is_active = False
    dispatcher.user.save()
    response = client.post(f"/api/v1/incidents/{submit().pk}/request-verification",
                           **dispatcher.api())
    assert response.status_code == 401


# --- what the public sees -------------------------------------------------------------------


def test_the_public_list_shows_only_confirmed_live_incidents(client, zone, checker,
                                                             dispatcher):
    shown = confirmed(checker)
    submit(FAR)  # reported
    verifying = submit((34.0522, -118.2437))
    do_request_verification(verifying, dispatcher.user)
    drill = confirmed(checker, (34.0900, -118.3000), is_drill=True)
    closed = submit((34.1000, -118.3300))
    do_record_verification(closed, checker, "not_ice")
    response = client.get("/api/v1/incidents")
    assert response.status_code == 200
    assert [i["id"] for i in response.json()] == [shown.pk]
    assert drill.is_drill


def test_the_public_list_is_coarse(client, zone, checker):
    incident = confirmed(checker)
    (item,) = client.get("/api/v1/incidents").json()
    cell = int(item["cell"], 16)
    assert geo.resolution(cell) == 7
    assert cell == geo.parent(incident.cell, 7)
    lat, lng = geo.center(cell)
    assert (item["latitude"], item["longitude"]) == (round(lat, 3), round(lng, 3))


def test_the_public_list_has_no_reports_notes_or_counts(client, zone, checker):
    confirmed(checker)
    response = client.get("/api/v1/incidents")
    (item,) = response.json()
    for private in ("reports", "notes", "corroboration", "report_count", "cross_streets",
                    "last_report_at", "is_drill"):
        assert private not in item
    assert SECRET_NOTES not in response.content.decode()


def test_the_public_detail_of_a_confirmed_incident(client, zone, checker):
    incident = confirmed(checker)
    response = client.get(f"/api/v1/incidents/{incident.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "confirmed"
    assert body["area"] == zone.name
    assert geo.resolution(int(body["cell"], 16)) == 7
    assert "reports" not in body
    assert SECRET_NOTES not in response.content.decode()


@pytest.mark.parametrize("state", ["reported", "verifying", "not_ice", "drill", "resolved"])
def test_the_public_get_404_for_an_incident_that_is_not_public(client, zone, checker,
                                                              dispatcher, state):
    if state == "drill":
        incident = confirmed(checker, is_drill=True)
    elif state == "resolved":
        incident = confirmed(checker)
        do_resolve(incident, dispatcher.user)
    else:
        incident = submit()
        if state == "verifying":
            do_request_verification(incident, dispatcher.user)
        elif state == "not_ice":
            do_record_verification(incident, checker, "not_ice")
    response = client.get(f"/api/v1/incidents/{incident.pk}")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_the_public_get_404_for_an_incident_that_does_not_exist(client, db):
    assert client.get("/api/v1/incidents/987654").status_code == 404


# --- what staff see ----------------------------------------------------------------------------


def test_a_dispatcher_sees_every_open_incident(client, zone, checker, dispatcher):
    reported = submit(FAR)
    live = confirmed(checker)
    drill = confirmed(checker, (34.0900, -118.3000), is_drill=True)
    response = client.get("/api/v1/incidents", **dispatcher.api())
    assert response.status_code == 200
    items = {i["id"]: i for i in response.json()}
    assert set(items) == {reported.pk, live.pk, drill.pk}
    assert items[drill.pk]["is_drill"] is True
    assert items[reported.pk]["state"] == "reported"
    assert geo.resolution(int(items[live.pk]["cell"], 16)) == 9


def test_a_dispatcher_sees_corroboration_counts(client, zone, dispatcher):
    a, b, c = (geo.center(cell) for cell in geo.children(geo.cell_for(*BOYLE, 8), 9)[:3])
    incident = submit(a, contact="+1 213 555 0123")
    submit(b, contact="+1 213 555 0123")
    submit(c)
    (item,) = client.get("/api/v1/incidents", **dispatcher.api()).json()
    assert item["id"] == incident.pk
    assert item["report_count"] == 3
    assert item["corroboration"] == 2


def test_closed_incidents_are_listed_for_staff_only_when_asked(client, zone, checker,
                                                               dispatcher):
    closed = submit()
    do_record_verification(closed, checker, "not_ice")
    assert client.get("/api/v1/incidents", **dispatcher.api()).json() == []
    items = client.get("/api/v1/incidents?include_closed=true", **dispatcher.api()).json()
    assert [i["id"] for i in items] == [closed.pk]


def test_a_dispatcher_sees_an_unconfirmed_incident_with_its_reports(client, zone,
                                                                    dispatcher):
    incident = submit(size=4, uniform_text="ICE vests")
    response = client.get(f"/api/v1/incidents/{incident.pk}", **dispatcher.api())
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "reported"
    (report,) = body["reports"]
    assert report["notes"] == SECRET_NOTES
    assert report["size"] == 4
    assert report["uniform_text"] == "ICE vests"
    assert "contact_encrypted" not in report and "reporter_key" not in report


def test_a_verifier_sees_an_incident_waiting_for_verification_with_reports(client, zone,
                                                                         verifier):
    incident = submit()
    body = client.get(f"/api/v1/incidents/{incident.pk}", **verifier.api()).json()
    assert body["state"] == "reported"
    assert body["reports"][0]["notes"] == SECRET_NOTES


def test_a_verifier_sees_at_least_what_the_public_sees(client, zone, checker, verifier):
    incident = confirmed(checker)  # confirmed by someone else
    response = client.get(f"/api/v1/incidents/{incident.pk}", **verifier.api())
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "confirmed"
    assert "reports" not in body
    assert geo.resolution(int(body["cell"], 16)) == 7


def test_a_staff_list_can_be_paged(client, zone, dispatcher):
    ids = [submit(p).pk for p in (BOYLE, FAR, (34.0522, -118.2437))]
    page = client.get("/api/v1/incidents?limit=2&offset=1", **dispatcher.api()).json()
    assert len(page) == 2
    assert {i["id"] for i in page} < set(ids)


# --- who may act -----------------------------------------------------------------------------

STAFF_ENDPOINTS = [
    ("post", "/api/v1/incidents/{id}/verification", {"outcome": "confirmed"}),
    ("post", "/api/v1/incidents/{id}/request-verification", None),
    ("post", "/api/v1/incidents/{id}/resolve", None),
    ("post", "/api/v1/incidents/{id}/correction", None),
    ("get", "/api/v1/incidents/{id}/alerts", None),
    ("get", "/api/v1/alerts/{alert}/deliveries", None),
]


def call(client: Client, method: str, path: str, body: Any, incident: Incident,
         **headers: Any) -> Any:
    alert = Alert.objects.filter(incident=incident).first()
    url = path.format(id=incident.pk, alert=alert.pk if alert else 0)
    if method == "get":
        return client.get(url, **headers)
    return client.post(url, body or {}, content_type=JSON, **headers)


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ENDPOINTS,
                         ids=[p.split("}/")[-1] for _m, p, _b in STAFF_ENDPOINTS])
def test_an_outsider_without_a_token_gets_401(client, zone, checker, method, path, body):
    incident = confirmed(checker)
    response = call(client, method, path, body, incident)
    assert response.status_code == 401
    assert response.json()["detail"]
    incident.refresh_from_db()
    assert incident.state == "confirmed"


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ENDPOINTS,
                         ids=[p.split("}/")[-1] for _m, p, _b in STAFF_ENDPOINTS])
def test_a_responder_gets_403(client, zone, checker, responder, method, path, body):
    incident = confirmed(checker)
    response = call(client, method, path, body, incident, **responder.api())
    assert response.status_code == 403
    assert response.json()["detail"]


DISPATCHER_ONLY = [e for e in STAFF_ENDPOINTS if not e[1].endswith("/verification")]


@pytest.mark.parametrize(("method", "path", "body"), DISPATCHER_ONLY,
                         ids=[p.split("}/")[-1] for _m, p, _b in DISPATCHER_ONLY])
def test_a_verifier_may_not_do_dispatcher_work(client, zone, checker, verifier, method, path,
                                               body):
    incident = confirmed(checker)
    response = call(client, method, path, body, incident, **verifier.api())
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_a_verifier_gets_403_on_resolve(client, zone, checker, verifier):
    incident = confirmed(checker)
    response = client.post(f"/api/v1/incidents/{incident.pk}/resolve", **verifier.api())
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.state == "confirmed"
    assert not Alert.objects.filter(kind="all_clear").exists()


def test_a_dispatcher_may_record_a_finding(client, zone, dispatcher):
    incident = submit()
    response = client.post(f"/api/v1/incidents/{incident.pk}/verification",
                           {"outcome": "not_ice"}, content_type=JSON, **dispatcher.api())
    assert response.status_code == 200
    assert response.json()["state"] == "not_ice"


def test_a_dispatcher_requests_verification(client, zone, dispatcher, verifier):
    incident = submit()
    response = client.post(f"/api/v1/incidents/{incident.pk}/request-verification",
                           **dispatcher.api())
    assert response.status_code == 200
    assert response.json() == {"incident_id": incident.pk, "state": "verifying",
                               "verifiers_asked": 1}


def test_a_dispatcher_resolves(client, zone, checker, dispatcher):
    incident = confirmed(checker)
    response = client.post(f"/api/v1/incidents/{incident.pk}/resolve", **dispatcher.api())
    assert response.status_code == 200
    assert response.json()["state"] == "resolved"


def test_a_dispatcher_sends_a_correction(client, zone, checker, dispatcher):
    incident = confirmed(checker)
    response = client.post(f"/api/v1/incidents/{incident.pk}/correction", **dispatcher.api())
    assert response.status_code == 200
    assert response.json()["state"] == "false_alarm"
    assert Alert.objects.filter(incident=incident, kind="correction").exists()


@pytest.mark.parametrize(("action", "state"), [
    ("resolve", "reported"), ("correction", "reported"),
    ("request-verification", "confirmed"), ("verification", "confirmed"),
    ("verification", "not_ice"), ("resolve", "resolved")])
def test_an_illegal_transition_gets_409_with_a_message(client, zone, checker, dispatcher,
                                                       action, state):
    if state == "reported":
        incident = submit()
    elif state == "not_ice":
        incident = submit()
        do_record_verification(incident, checker, "not_ice")
    else:
        incident = confirmed(checker)
        if state == "resolved":
            do_resolve(incident, dispatcher.user)
    response = client.post(f"/api/v1/incidents/{incident.pk}/{action}",
                           {"outcome": "confirmed"}, content_type=JSON, **dispatcher.api())
    assert response.status_code == 409
    assert "not possible now" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.state == state


def test_a_409_message_is_in_spanish_when_asked(client, zone, dispatcher):
    incident = submit()
    response = client.post(f"/api/v1/incidents/{incident.pk}/resolve", **dispatcher.api(),
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 409
    assert "not possible now" not in response.json()["detail"]


def test_staff_get_404_for_an_unknown_incident(client, db, dispatcher):
    response = client.post("/api/v1/incidents/424242/resolve", **dispatcher.api())
    assert response.status_code == 404


# --- alerts and deliveries --------------------------------------------------------------------


def test_the_alerts_of_an_incident(client, zone, checker, dispatcher, deliver):
    make_member("María", "es", phone="+12135550181")
    make_member("James", "en", phone="+12135550182", email="james@example.org")
    incident = confirmed(checker)
    deliver()
    response = client.get(f"/api/v1/incidents/{incident.pk}/alerts", **dispatcher.api())
    assert response.status_code == 200
    (alert,) = response.json()
    assert alert["kind"] == "alert"
    assert alert["incident_id"] == incident.pk
    assert alert["recipient_count"] == 2
    assert alert["is_drill"] is False
    assert alert["area_name"] == zone.name
    assert alert["radius_m"] == 2000
    assert alert["deliveries"] == {"sent": 3}
    assert alert["texts"]["es"]["text"].startswith("VERIFICADO")
    assert alert["texts"]["en"]["text"].startswith("VERIFIED")


def test_the_all_clear_is_listed_with_its_original(client, zone, checker, dispatcher):
    make_member("James", "en", phone="+12135550182")
    incident = confirmed(checker)
    do_resolve(incident, dispatcher.user)
    alerts = client.get(f"/api/v1/incidents/{incident.pk}/alerts", **dispatcher.api()).json()
    assert [a["kind"] for a in alerts] == ["alert", "all_clear"]
    assert alerts[1]["original_id"] == alerts[0]["id"]
    assert alerts[1]["recipient_count"] == 1
    assert alerts[1]["deliveries"] == {"queued": 1}


def test_the_deliveries_of_an_alert_say_who_what_channel_language_status(client, zone, checker,
                                                                          dispatcher, deliver):
    maria = make_member("María", "es", phone="+12135550181", at=BOYLE)
    james = make_member("James", "en", phone="+12135550182", email="james@example.org")
    incident = confirmed(checker)
    deliver()
    alert = Alert.objects.get(incident=incident)
    response = client.get(f"/api/v1/alerts/{alert.pk}/deliveries", **dispatcher.api())
    assert response.status_code == 200
    body = response.json()
    assert body["alert_id"] == alert.pk
    assert body["total"] == 3
    rows = {(d["member_id"], d["member_name"], d["channel"], d["language"], d["status"])
            for d in body["deliveries"]}
    assert rows == {(maria.pk, "María", "sms", "es", "sent"),
                    (james.pk, "James", "sms", "en", "sent"),
                    (james.pk, "James", "email", "en", "sent")}
    assert body["deliveries"][0]["member_id"] == maria.pk  # nearest first
    assert all(d["sent_at"] for d in body["deliveries"])


def test_deliveries_can_be_filtered_by_status(client, zone, checker, dispatcher):
    make_member("James", "en", phone="+12135550182")
    incident = confirmed(checker)
    alert = Alert.objects.get(incident=incident)
    queued = client.get(f"/api/v1/alerts/{alert.pk}/deliveries?status=queued",
                        **dispatcher.api()).json()
    sent = client.get(f"/api/v1/alerts/{alert.pk}/deliveries?status=sent",
                      **dispatcher.api()).json()
    assert (queued["total"], sent["total"]) == (1, 0)


def test_deliveries_of_an_unknown_alert_are_404(client, db, dispatcher):
    assert client.get("/api/v1/alerts/31337/deliveries", **dispatcher.api()).status_code == 404


def test_the_api_report_of_a_staff_member_can_say_it_was_a_phone_call(client, zone,
                                                                      dispatcher):
    response = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                               "activity": "arrests", "source": "phone"},
                           content_type=JSON, **dispatcher.api())
    assert response.status_code == 201
    incident = Incident.objects.get(pk=response.json()["incident_id"])
    report = incident.reports.get()
    assert report.source == "phone"
    assert report.entered_by == dispatcher.user
