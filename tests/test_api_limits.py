"""The API's bounds and choices: pages are bounded in the schema (a 422 with a message in the
caller's language, never a 500), choice fields are enums in the OpenAPI schema, every
operation declares the answers it gives, and a NUL character never reaches a view."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from rapidresponse.alerts.vocabulary import Activity, Agency
from rapidresponse.delivery.models import Status
from rapidresponse.incidents.models import Outcome, Report
from tests.conftest import BOYLE

JSON = "application/json"
SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}


@pytest.fixture
def openapi(client: Any, db: Any) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json()


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def body_properties(schema: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]
    return resolve(schema, body["schema"])["properties"]


def query_parameter(schema: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    (parameter,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter["schema"]


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "offset=-1",
                                   "offset=1000001", "limit=0", "limit=501", "limit=-5",
                                   "limit=99999999999999999999"])
def test_a_page_out_of_bounds_is_a_422_with_a_message(client, db, query):
    response = client.get(f"/api/v1/incidents?{query}")
    assert response.status_code == 422
    name = query.split("=")[0]
    assert response.json()["errors"][name].startswith("Enter a number of at")


def test_the_bound_is_in_the_message_and_the_language(client, db):
    response = client.get("/api/v1/incidents?limit=501", **SPANISH)
    assert response.status_code == 422
    with translation.override("es"):
        assert response.json()["errors"]["limit"] == translation.gettext(
            "Enter a number of at most %(le)s.") % {"le": 500}
    assert "500" in response.json()["errors"]["limit"]
    assert response.json()["errors"]["limit"] != "Enter a number of at most 500."


def test_staff_pages_are_bounded_too(client, dispatcher):
    response = client.get("/api/v1/incidents?offset=9223372036854775808", **dispatcher.api())
    assert response.status_code == 422


def test_the_largest_page_is_answered(client, dispatcher):
    response = client.get("/api/v1/incidents?limit=500&offset=1000000", **dispatcher.api())
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("query", ["offset=-1", "offset=9223372036854775808", "limit=5001",
                                   "limit=0"])
def test_deliveries_are_bounded(client, dispatcher, query):
    response = client.get(f"/api/v1/alerts/1/deliveries?{query}", **dispatcher.api())
    assert response.status_code == 422
    assert response.json()["errors"]


def test_the_schema_says_the_bounds(openapi):
    limit = query_parameter(openapi, "/api/v1/incidents", "limit")
    offset = query_parameter(openapi, "/api/v1/incidents", "offset")
    assert (limit["minimum"], limit["maximum"]) == (1, 500)
    assert (offset["minimum"], offset["maximum"]) == (0, 1_000_000)
    limit = query_parameter(openapi, "/api/v1/alerts/{alert_id}/deliveries", "limit")
    assert limit["maximum"] == 5000


# --- choices -----------------------------------------------------------------------------------


def test_report_choices_are_enums_in_the_schema(openapi):
    fields = body_properties(openapi, "/api/v1/reports")
    assert fields["activity"]["enum"] == Activity.values
    assert fields["agency"]["enum"] == Agency.values
    assert fields["language"]["enum"] == ["en", "es"]


def test_outcome_language_and_channels_are_enums_in_the_schema(openapi):
    outcome = body_properties(openapi, "/api/v1/incidents/{incident_id}/verification")["outcome"]
    assert outcome["enum"] == Outcome.values
    member = body_properties(openapi, "/api/v1/members")
    assert member["language"]["enum"] == ["en", "es"]
    (channels,) = [branch for branch in member["channels"]["anyOf"]
                   if branch.get("type") == "array"]
    assert channels["items"]["enum"] == ["sms", "signal", "email"]


def test_the_status_filter_is_an_enum_in_the_schema(openapi):
    status = query_parameter(openapi, "/api/v1/alerts/{alert_id}/deliveries", "status")
    choices = [resolve(openapi, s) for s in status.get("anyOf", [status])]
    assert any(c.get("enum") == Status.values for c in choices)


def test_answers_carry_enums_too(openapi):
    incident = resolve(openapi, openapi["components"]["schemas"]["IncidentPublic"])
    assert "confirmed" in incident["properties"]["state"]["enum"]
    delivery = openapi["components"]["schemas"]["DeliveryOut"]
    assert delivery["properties"]["channel"]["enum"][:2] == ["sms", "email"]


def test_an_unknown_status_filter_is_a_422_naming_the_choices(client, dispatcher):
    response = client.get("/api/v1/alerts/1/deliveries?status=lost", **dispatcher.api())
    assert response.status_code == 422
    message = response.json()["errors"]["status"]
    assert message.startswith("Choose one of these values: queued, sending, sent")


def test_an_unknown_activity_keeps_the_forms_message(client, zone):
    response = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                               "activity": "dancing"}, content_type=JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == {"activity": "Choose what you saw."}


def test_an_unknown_report_language_is_refused(client, zone):
    response = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                               "activity": "patrol", "language": "fr"},
                           content_type=JSON)
    assert response.status_code == 400
    assert response.json()["errors"]["language"] == "Choose one of these languages: en, es."


def test_a_source_the_schema_does_not_list_is_refused(client, zone, dispatcher):
    response = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                               "activity": "patrol", "source": "sms"},
                           content_type=JSON, **dispatcher.api())
    assert response.status_code == 422
    assert response.json()["errors"]["source"] == "Choose one of these values: phone, api."


@pytest.mark.parametrize("fields", [{"latitude": True, "longitude": True},
                                    {"latitude": "34.03", "longitude": "-118.2"},
                                    {"zone": True}])
def test_a_place_must_be_numbers(client, zone, fields):
    response = client.post("/api/v1/reports", {"activity": "patrol", **fields},
                           content_type=JSON)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == set(fields)


# --- the answers each operation declares ------------------------------------------------------

DECLARED = {
    ("post", "/api/v1/auth/token"): {"200", "400", "401", "422", "429"},
    ("post", "/api/v1/reports"): {"201", "400", "401", "422", "429"},
    ("get", "/api/v1/incidents"): {"200", "400", "401", "422"},
    ("get", "/api/v1/incidents/{incident_id}"): {"200", "400", "401", "404", "422"},
    ("post", "/api/v1/incidents/{incident_id}/verification"):
        {"200", "400", "401", "403", "404", "409", "422"},
    ("post", "/api/v1/incidents/{incident_id}/resolve"):
        {"200", "400", "401", "403", "404", "409", "422"},
    ("get", "/api/v1/alerts/{alert_id}/deliveries"): {"200", "400", "401", "403", "404", "422"},
    ("post", "/api/v1/members"): {"201", "400", "401", "403", "422"},
}


@pytest.mark.parametrize(("method", "path"), sorted(DECLARED))
def test_each_operation_declares_its_answers(openapi, method, path):
    responses = openapi["paths"][path][method]["responses"]
    assert set(responses) == DECLARED[(method, path)]
    for code, response in responses.items():
        body = resolve(openapi, response["content"]["application/json"]["schema"])
        if code.startswith("4"):
            assert body["required"] == ["detail"] and "errors" in body["properties"]


# --- NUL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests",
                         "notes": "a\x00b"}),
    ("/api/v1/auth/token", {"username": "a\x00b", "password": "x"}),
])
def test_a_nul_in_json_is_a_400_in_the_callers_language(client, zone, path, body):
    response = client.post(path, body, content_type=JSON, **SPANISH)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert "not allowed" not in response.json()["detail"]


def test_a_nul_in_a_query_is_dropped(client, dispatcher):
    response = client.get("/api/v1/incidents?include_closed=tr%00ue", **dispatcher.api())
    assert response.status_code == 200


def test_a_nul_in_a_form_is_dropped_and_the_rest_kept(client, zone):
    response = client.post("/report/", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "arrests", "notes": "a\x00b"})
    assert response.status_code == 302
    assert Report.objects.get().notes == "ab"


def test_a_form_that_is_only_a_nul_is_checked_like_an_empty_one(client, zone):
    response = client.post("/report/", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                        "activity": "\x00"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    with translation.override("es"):
        assert translation.gettext("Choose what you saw.") in response.content.decode()


def test_a_backslash_typed_in_a_note_is_kept(client, zone):
    response = client.post("/api/v1/reports", {"latitude": BOYLE[0], "longitude": BOYLE[1],
                                               "activity": "arrests", "notes": "C:\\temp"},
                           content_type=JSON)
    assert response.status_code == 201
