"""Who may confirm: a confirmation counts only from a verifier who was asked for the incident
or works its zone, and never from the author of one of its reports (whoever typed in the
call, or reported through the API). Refusals say why, in the reader's language, on the
verifier's page, in the console and in the API (403)."""

from __future__ import annotations

from typing import Any

import pytest

from rapidresponse.accounts.models import Role
from rapidresponse.alerts.models import Alert
from rapidresponse.incidents.actions import (
    FindingRefused,
    counted_confirmations,
    do_record_verification,
)
from rapidresponse.incidents.models import Verification, VerificationRequest
from tests.conftest import BOYLE, make_staff, persona
from tests.zones_support import VAN_NUYS, Zones, report, two_zones

AUTHOR_REFUSAL = ("You entered a report of this incident, so your confirmation cannot count: "
                  "another verifier must confirm it.")


@pytest.fixture
def zones(db: Any) -> Zones:
    return two_zones()


def phone_report(by: Any, at: tuple[float, float] = BOYLE) -> Any:
    return report(at, source="phone", actor=by)


# --- the author of a report -----------------------------------------------------------------


def test_a_dispatcher_cannot_confirm_the_call_they_typed_in(zones, dispatcher):
    incident = phone_report(dispatcher.user)
    with pytest.raises(FindingRefused, match="You entered a report"):
        do_record_verification(incident, dispatcher.user, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "reported"
    assert not Verification.objects.exists() and not Alert.objects.exists()


def test_the_console_refuses_the_authors_confirmation_with_the_reason(zones, dispatcher):
    incident = phone_report(dispatcher.user)
    for data in ({"outcome": "confirmed"}, {"outcome": "confirmed", "send": "1"}):
        response = dispatcher.client.post(f"/console/incidents/{incident.pk}/outcome/", data)
        assert response.status_code == 403
        assert AUTHOR_REFUSAL in response.content.decode()
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_the_api_refuses_the_authors_confirmation_with_the_reason(zones, dispatcher):
    response = dispatcher.client.post("/api/v1/reports", {
        "latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests"},
        content_type="application/json", **dispatcher.api())
    incident_id = response.json()["incident_id"]
    response = dispatcher.client.post(f"/api/v1/incidents/{incident_id}/verification",
                                      {"outcome": "confirmed"},
                                      content_type="application/json", **dispatcher.api())
    assert response.status_code == 403
    assert response.json() == {"detail": AUTHOR_REFUSAL}


def test_the_refusal_is_in_spanish_everywhere(zones, dispatcher):
    incident = phone_report(dispatcher.user)
    spanish = {"HTTP_ACCEPT_LANGUAGE": "es"}
    page = dispatcher.client.post(f"/verify/{incident.pk}/", {"outcome": "confirmed"},
                                  **spanish)
    api = dispatcher.client.post(f"/api/v1/incidents/{incident.pk}/verification",
                                 {"outcome": "confirmed"}, content_type="application/json",
                                 **spanish, **dispatcher.api())
    assert page.status_code == api.status_code == 403
    assert "Usted registró un reporte" in page.content.decode()
    assert api.json()["detail"].startswith("Usted registró un reporte")


def test_the_verify_page_tells_the_author_before_they_try(zones, dispatcher):
    incident = phone_report(dispatcher.user)
    html = dispatcher.client.get(f"/verify/{incident.pk}/").content.decode()
    assert AUTHOR_REFUSAL in html
    assert 'value="confirmed"' not in html and 'value="not_ice"' in html


def test_the_author_may_still_rule_their_report_out(zones, dispatcher):
    """The caller rang back: nothing there. Ruling out sends nothing."""
    incident = phone_report(dispatcher.user)
    do_record_verification(incident, dispatcher.user, "false_alarm")
    incident.refresh_from_db()
    assert incident.state == "false_alarm"


def test_another_verifier_confirms_the_dispatchers_call(zones, dispatcher, verifier):
    incident = phone_report(dispatcher.user)
    do_record_verification(incident, verifier.user, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_the_authors_confirmation_does_not_count_towards_two(zones, dispatcher, settings):
    settings.VERIFICATIONS_REQUIRED = 2
    first, second = (make_staff(n, Role.VERIFIER).user for n in ("first", "second"))
    incident = report(BOYLE)
    do_record_verification(incident, first, "confirmed")
    # The first verifier then adds a report of their own through the API: their
    # confirmation no longer counts, so one more is not enough.
    report(BOYLE, source="api", actor=first)
    assert counted_confirmations(incident) == 0
    do_record_verification(incident, second, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "reported"
    assert counted_confirmations(incident) == 1


# --- asked, or working the zone -------------------------------------------------------------


def test_a_verifier_of_another_zone_cannot_confirm(zones):
    elsewhere = make_staff("vn", Role.VERIFIER, zones=[zones.van_nuys])
    incident = report(BOYLE)
    with pytest.raises(FindingRefused, match="not asked to verify"):
        do_record_verification(incident, elsewhere.user, "confirmed")
    with pytest.raises(FindingRefused):
        do_record_verification(incident, elsewhere.user, "not_ice")


def test_a_verifier_of_another_zone_does_not_even_find_the_incident(zones):
    elsewhere = persona("vn", Role.VERIFIER, zones=[zones.van_nuys])
    incident = report(BOYLE)
    assert elsewhere.client.post(f"/verify/{incident.pk}/",
                                 {"outcome": "confirmed", "send": "1"}).status_code == 404
    response = elsewhere.client.post(f"/api/v1/incidents/{incident.pk}/verification",
                                     {"outcome": "confirmed"},
                                     content_type="application/json", **elsewhere.api())
    assert response.status_code == 404
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_a_verifier_who_was_asked_confirms_beyond_their_zones(zones):
    asked = make_staff("asked", Role.VERIFIER, zones=[zones.van_nuys])
    incident = report(BOYLE)
    VerificationRequest.objects.create(incident=incident, verifier=asked)
    do_record_verification(incident, asked.user, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_a_verifier_of_the_zone_confirms_without_being_asked(zones):
    here = make_staff("here", Role.VERIFIER, zones=[zones.boyle])
    incident = report(BOYLE)
    do_record_verification(incident, here.user, "confirmed")
    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_a_responder_records_no_finding(zones):
    responder = make_staff("resp", Role.RESPONDER)
    incident = report(VAN_NUYS)
    with pytest.raises(FindingRefused, match="Only verifiers"):
        do_record_verification(incident, responder.user, "confirmed")


def test_an_unknown_outcome_is_still_a_field_error(zones, verifier):
    from rapidresponse.lib.errors import InvalidInput

    with pytest.raises(InvalidInput):
        do_record_verification(report(BOYLE), verifier.user, "maybe")
