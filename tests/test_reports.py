"""Reports: the public page, the API and the dispatcher's phone-call form.

Every field is validated with a clear message and a 4xx; nothing about the reporter's
network address is kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapidresponse.accounts.models import AuditEntry
from rapidresponse.incidents.models import Incident, Report
from tests.conftest import BOYLE

GOOD = {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests", "agency": "ice"}
REPORTER_IP = "203.0.113.77"


def api_report(client: Client, **fields: Any) -> Any:
    return client.post("/api/v1/reports", {**GOOD, **fields}, content_type="application/json")


def form_time(moment: Any) -> str:
    """How a browser's datetime-local input sends a time (local, no zone)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


# --- the public page -----------------------------------------------------------------------


def test_report_page_shows_the_salute_form(client, zone):
    page = client.get("/report/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("latitude", "longitude", "activity", "agency", "size", "observed_at",
                 "vehicles", "location_text", "uniform_text", "equipment_text", "notes",
                 "contact"):
        assert f'name="{name}"' in html, name
    assert zone.name in html  # the neighbourhood list, for people without a map


def test_report_page_accepts_an_anonymous_report_and_thanks(client, zone):
    response = client.post("/report/", GOOD)
    assert response.status_code == 302
    assert response["Location"] == "/report/thanks/"
    report = Report.objects.get()
    assert report.source == "web"
    assert report.activity == "arrests" and report.agency == "ice"
    assert report.entered_by is None
    assert client.get(response["Location"]).status_code == 200


def test_report_page_accepts_a_neighbourhood_instead_of_a_pin(client, zone):
    response = client.post("/report/", {"zone": zone.pk, "activity": "patrol"})
    assert response.status_code == 302
    assert Incident.objects.get().zone == zone


def test_report_page_without_a_place_says_where_is_missing(client, zone):
    response = client.post("/report/", {"activity": "arrests"})
    assert response.status_code == 400
    assert "Say where" in response.content.decode()
    assert not Report.objects.exists()


def test_report_page_keeps_what_was_typed_after_an_error(client, zone):
    response = client.post("/report/", {
        **GOOD, "size": "lots", "location_text": "Cesar Chavez and Soto",
        "uniform_text": "POLICE ICE vests", "equipment_text": "two white vans",
        "notes": "They stopped a man near the bakery", "vehicles": "2",
        "contact": "+1 213 555 0177"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a whole number." in html
    assert 'value="Cesar Chavez and Soto"' in html
    assert 'value="POLICE ICE vests"' in html
    assert 'value="two white vans"' in html
    assert "They stopped a man near the bakery</textarea>" in html
    assert 'value="lots"' in html
    assert 'value="2"' in html
    assert 'value="+1 213 555 0177"' in html
    assert f'value="{BOYLE[0]}"' in html
    assert 'value="arrests" checked' in html
    assert 'value="ice" selected' in html
    assert not Report.objects.exists()


@pytest.mark.parametrize(("lat", "lng"), [("abc", "-118.2"), ("34.03", ""), ("95", "-118.2"),
                                        ("nan", "-118.2"), ("34.03", "inf")])
def test_report_page_rejects_a_bad_location(client, zone, lat, lng):
    response = client.post("/report/", {**GOOD, "latitude": lat, "longitude": lng})
    assert response.status_code == 400
    assert "not a valid latitude and longitude" in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("activity", "shooting", "Choose what you saw."),
    ("agency", "fbi", "Choose who they seemed to be"),
    ("vehicles", "-2", "Enter a number from 0 to 200."),
    ("notes", "x" * 2001, "Too long: 2000 characters at most."),
    ("contact", "call me", "This is not a phone number."),
    ("contact", "me@", "This email address is not valid."),
])
def test_report_page_explains_each_bad_field(client, zone, field, value, message):
    response = client.post("/report/", {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


def test_report_page_rejects_a_time_older_than_a_day(client, zone):
    old = form_time(timezone.now() - timedelta(hours=30))
    response = client.post("/report/", {**GOOD, "observed_at": old})
    assert response.status_code == 400
    assert "Reports must be about the last 24 hours." in response.content.decode()


def test_report_page_rejects_a_time_in_the_future(client, zone):
    later = form_time(timezone.now() + timedelta(hours=2))
    response = client.post("/report/", {**GOOD, "observed_at": later})
    assert response.status_code == 400
    assert "The time cannot be in the future." in response.content.decode()


def test_report_page_accepts_a_local_time_from_an_hour_ago(client, zone):
    earlier = timezone.now() - timedelta(hours=1)
    response = client.post("/report/", {**GOOD, "observed_at": form_time(earlier)})
    assert response.status_code == 302
    observed = Report.objects.get().observed_at
    assert abs(observed - earlier) < timedelta(minutes=1)


def test_report_page_answers_in_spanish(client, zone):
    response = client.post("/report/", {**GOOD, "size": "muchos"},
                           HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a whole number." not in html
    assert 'lang="es"' in html


def test_report_page_stores_no_ip_address(zone):
    browser = Client(REMOTE_ADDR=REPORTER_IP, HTTP_X_FORWARDED_FOR=REPORTER_IP)
    assert browser.post("/report/", {**GOOD, "notes": "seen from the bus stop"}
                        ).status_code == 302
    report = Report.objects.get()
    for field in Report._meta.concrete_fields:
        assert "ip" not in field.name.split("_"), field.name
        assert REPORTER_IP not in str(getattr(report, field.attname)), field.name
    for entry in AuditEntry.objects.all():
        assert REPORTER_IP not in str(entry.detail)
    incident = report.incident
    for field in Incident._meta.concrete_fields:
        assert REPORTER_IP not in str(getattr(incident, field.attname)), field.name


def test_api_report_stores_no_ip_address(zone):
    browser = Client(REMOTE_ADDR=REPORTER_IP)
    assert api_report(browser, notes="from across the street").status_code == 201
    report = Report.objects.get()
    for field in Report._meta.concrete_fields:
        assert REPORTER_IP not in str(getattr(report, field.attname)), field.name


def test_report_contact_is_kept_encrypted(client, zone):
    assert client.post("/report/", {**GOOD, "contact": "(213) 555-0177"}).status_code == 302
    report = Report.objects.get()
    assert report.contact_encrypted
    assert "2135550177" not in report.contact_encrypted


# --- the API -------------------------------------------------------------------------------


def test_api_accepts_an_anonymous_report(client, zone):
    response = api_report(client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"report_id", "incident_id"}
    report = Report.objects.get(pk=body["report_id"])
    assert report.incident_id == body["incident_id"]
    assert report.source == "api"
    assert report.incident.state == "reported"


def test_api_report_keeps_every_salute_field(client, zone):
    seen = timezone.now() - timedelta(minutes=30)
    response = api_report(client, size=6, vehicles=3, observed_at=seen.isoformat(),
                          location_text="1st and Soto", uniform_text="vests marked ICE",
                          equipment_text="grey SUVs", notes="no one detained yet",
                          contact="helper@example.org", language="es")
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert (report.size, report.vehicles) == (6, 3)
    assert abs(report.observed_at - seen) < timedelta(seconds=1)
    assert report.location_text == "1st and Soto"
    assert report.uniform_text == "vests marked ICE"
    assert report.equipment_text == "grey SUVs"
    assert report.notes == "no one detained yet"
    assert report.language == "es"
    assert report.contact_encrypted and "helper" not in report.contact_encrypted


def test_api_report_without_a_time_means_now(client, zone):
    before = timezone.now()
    assert api_report(client).status_code == 201
    assert Report.objects.get().observed_at >= before - timedelta(seconds=1)


BAD_FIELDS = [
    ({"latitude": 91}, "location"),
    ({"latitude": -90.5}, "location"),
    ({"longitude": 181}, "location"),
    ({"longitude": -200}, "location"),
    ({"latitude": None, "longitude": None}, "location"),
    ({"latitude": BOYLE[0], "longitude": None}, "location"),
    ({"latitude": None, "longitude": None, "zone": 999999}, "location"),
    ({"activity": "shooting"}, "activity"),
    ({"activity": ""}, "activity"),
    ({"agency": "fbi"}, "agency"),
    ({"size": 0}, "size"),
    ({"size": 1001}, "size"),
    ({"size": -3}, "size"),
    ({"size": 10**12}, "size"),
    ({"vehicles": -1}, "vehicles"),
    ({"vehicles": 201}, "vehicles"),
    ({"location_text": "x" * 201}, "location_text"),
    ({"uniform_text": "x" * 201}, "uniform_text"),
    ({"equipment_text": "x" * 201}, "equipment_text"),
    ({"notes": "x" * 2001}, "notes"),
    ({"contact": "call me maybe"}, "contact"),
    ({"contact": "12"}, "contact"),
    ({"contact": "someone@"}, "contact"),
    ({"contact": "x" * 121}, "contact"),
    ({"observed_at": "yesterday-ish"}, "observed_at"),
    ({"observed_at": "2024-13-45T25:00"}, "observed_at"),
]


@pytest.mark.parametrize(("fields", "error_field"), BAD_FIELDS,
                         ids=[f"{k}={str(v)[:12]}" for (d, _e) in BAD_FIELDS
                              for k, v in list(d.items())[:1]])
def test_api_rejects_a_bad_field_with_a_message(client, zone, fields, error_field):
    response = api_report(client, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"]
    assert body["errors"][error_field]
    assert not Report.objects.exists()


def test_api_rejects_a_time_in_the_future(client, zone):
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    response = api_report(client, observed_at=later)
    assert response.status_code == 400
    assert response.json()["errors"]["observed_at"] == "The time cannot be in the future."


def test_api_allows_a_clock_a_few_minutes_fast(client, zone):
    soon = (timezone.now() + timedelta(minutes=3)).isoformat()
    assert api_report(client, observed_at=soon).status_code == 201


def test_api_rejects_a_time_older_than_a_day(client, zone):
    old = (timezone.now() - timedelta(hours=25)).isoformat()
    response = api_report(client, observed_at=old)
    assert response.status_code == 400
    assert response.json()["errors"]["observed_at"] == (
        "Reports must be about the last 24 hours.")


def test_api_accepts_a_time_from_23_hours_ago(client, zone):
    old = (timezone.now() - timedelta(hours=23)).isoformat()
    assert api_report(client, observed_at=old).status_code == 201


def test_api_reports_every_bad_field_at_once(client, zone):
    response = api_report(client, latitude=200, activity="nope", size=0, vehicles=999,
                          contact="not a contact")
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"location", "activity", "size", "vehicles",
                                               "contact"}


WRONG_TYPES = [
    {"latitude": "north"},
    {"longitude": [1, 2]},
    {"activity": ["arrests"]},
    {"activity": {"kind": "arrests"}},
    {"size": "many"},
    {"size": 2.5},
    {"size": True},
    {"vehicles": "two"},
    {"vehicles": True},
    {"observed_at": 1700000000},
    {"notes": {"text": "hi"}},
    {"contact": 2135550177},
    {"is_drill": "maybe"},
    {"zone": "Boyle Heights", "latitude": None, "longitude": None},
]


@pytest.mark.parametrize("fields", WRONG_TYPES, ids=[next(iter(f)) + "-" + type(
    next(iter(f.values()))).__name__ for f in WRONG_TYPES])
def test_api_wrong_json_types_are_a_client_error(client, zone, fields):
    response = api_report(client, **fields)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["detail"]
    assert not Report.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[]", '"a string"', "42", "null", ""])
def test_api_a_body_that_is_not_an_object_is_a_client_error(client, zone, body):
    response = client.post("/api/v1/reports", body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["detail"]
    assert not Report.objects.exists()


def test_api_error_messages_follow_the_language_asked_for(client, zone):
    response = client.post("/api/v1/reports", {**GOOD, "activity": "nope"},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert response.json()["errors"]["activity"] != "Choose what you saw."


def test_api_ignores_is_drill_from_the_public(client, zone):
    response = api_report(client, is_drill=True)
    assert response.status_code == 201
    assert Incident.objects.get(pk=response.json()["incident_id"]).is_drill is False
    assert Report.objects.get().is_drill is False


def test_api_accepts_is_drill_from_a_dispatcher(client, zone, dispatcher):
    response = client.post("/api/v1/reports", {**GOOD, "is_drill": True},
                           content_type="application/json", **dispatcher.api())
    assert response.status_code == 201
    assert Incident.objects.get(pk=response.json()["incident_id"]).is_drill is True


def test_api_ignores_source_from_the_public(client, zone):
    assert api_report(client, source="phone").status_code == 201
    assert Report.objects.get().source == "api"


def test_api_report_with_a_bad_token_is_refused(client, zone):
    response = client.post("/api/v1/reports", GOOD, content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer rr_not-a-real-token")
    assert response.status_code == 401
    assert not Report.objects.exists()


def test_api_limits_reports_from_one_place(client, zone):
    statuses = [api_report(client).status_code for _ in range(31)]
    assert statuses[:30] == [201] * 30
    assert statuses[30] == 429


# --- a dispatcher takes a phone call ----------------------------------------------------


def test_dispatcher_sees_the_phone_report_form(dispatcher, zone):
    page = dispatcher.client.get("/console/reports/new/")
    assert page.status_code == 200
    assert 'name="report_language"' in page.content.decode()


def test_dispatcher_enters_a_phone_report_that_lands_in_the_queue(dispatcher, zone):
    response = dispatcher.client.post("/console/reports/new/", {
        **GOOD, "report_language": "es", "size": "4", "notes": "caller is a neighbour"})
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/incidents/{report.incident_id}/"
    assert report.source == "phone"
    assert report.language == "es"
    assert report.entered_by == dispatcher.user
    assert report.is_drill is False
    queue = dispatcher.client.get("/console/queue/").content.decode()
    assert f'data-incident="{report.incident_id}"' in queue


def test_phone_report_errors_keep_the_values(dispatcher, zone):
    response = dispatcher.client.post("/console/reports/new/", {
        **GOOD, "vehicles": "500", "notes": "caller spoke Spanish"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "caller spoke Spanish</textarea>" in html
    assert 'value="500"' in html
    assert not Report.objects.exists()


def test_phone_report_errors_keep_the_callers_language_and_drill_box(dispatcher, zone):
    response = dispatcher.client.post("/console/reports/new/", {
        **GOOD, "size": "0", "report_language": "es", "is_drill": "on"})
    assert response.status_code == 400
    html = response.content.decode()
    assert '<option value="es" selected>' in html
    assert 'name="is_drill" checked' in html


def test_phone_report_can_be_a_drill(dispatcher, zone):
    dispatcher.client.post("/console/reports/new/", {**GOOD, "is_drill": "on"})
    assert Incident.objects.get().is_drill is True


def test_phone_report_form_is_not_for_the_public(outsider, zone):
    response = outsider.post("/console/reports/new/", GOOD)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not Report.objects.exists()


def test_phone_report_form_is_not_for_verifiers(verifier, zone):
    response = verifier.client.post("/console/reports/new/", GOOD)
    assert response.status_code == 403
    assert not Report.objects.exists()
