"""One table of incident transitions (incidents/transitions.py): the console offers exactly
what it allows, the API refuses what it refuses, and the same bad input gets the same answer
on the verifier's page, in the console and through the API."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import html

from rapidresponse.incidents import transitions
from rapidresponse.incidents.actions import do_record_verification, do_resolve
from rapidresponse.incidents.models import Incident, State
from rapidresponse.incidents.transitions import Step
from tests.test_console import flash, submit

#: The console's buttons and forms, by the step they take.
CONTROLS = {
    Step.REQUEST_VERIFICATION: "//form[contains(@action, '/request-verification/')]",
    Step.RECORD_FINDING: "//form[contains(@action, '/outcome/')]",
    Step.RESOLVE: "//form[contains(@action, '/resolve/')]",
    Step.CORRECT: "//form[contains(@action, '/correction/')]",
}


def in_state(state: str, verifier: Any) -> Incident:
    incident = submit()
    if state == State.VERIFYING:
        Incident.objects.filter(pk=incident.pk).update(state=State.VERIFYING)
    elif state in (State.CONFIRMED, State.RESOLVED, State.FALSE_ALARM):
        do_record_verification(incident, verifier.user, "confirmed")
        if state == State.RESOLVED:
            do_resolve(incident, None)
        elif state == State.FALSE_ALARM:
            Incident.objects.filter(pk=incident.pk).update(state=State.FALSE_ALARM)
    elif state != State.REPORTED:
        Incident.objects.filter(pk=incident.pk).update(state=state)
    incident.refresh_from_db()
    assert incident.state == state
    return incident


@pytest.mark.parametrize("state", list(State.values))
def test_the_console_offers_exactly_what_the_table_allows(state, zone, dispatcher, verifier):
    incident = in_state(state, verifier)
    page = html.fromstring(dispatcher.client.get(f"/console/incidents/{incident.pk}/").content)
    for step, xpath in CONTROLS.items():
        assert bool(page.xpath(xpath)) == transitions.allowed(state, step), (state, step)


@pytest.mark.parametrize(("state", "path", "step"), [
    (State.REPORTED, "resolve", Step.RESOLVE),
    (State.RESOLVED, "resolve", Step.RESOLVE),
    (State.EXPIRED, "correction", Step.CORRECT),
    (State.REPORTED, "correction", Step.CORRECT),
    (State.CONFIRMED, "request-verification", Step.REQUEST_VERIFICATION),
])
def test_the_api_refuses_what_the_table_refuses(state, path, step, zone, dispatcher, verifier):
    assert not transitions.allowed(state, step)
    incident = in_state(state, verifier)
    response = dispatcher.client.post(f"/api/v1/incidents/{incident.pk}/{path}",
                                      **dispatcher.api())
    assert response.status_code == 409
    assert "not possible now" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.state == state


def _three_answers(incident: Incident, verifier: Any, dispatcher: Any,
                   data: dict[str, str]) -> list[str]:
    """What the verifier's page, the dispatcher's outcome form in the console and the API say
    to the same finding."""
    page = verifier.client.post(f"/verify/{incident.pk}/", data)
    assert page.status_code == 400
    said_on_page = html.fromstring(page.content).xpath("//*[@class='error']")[0].text_content()
    console = dispatcher.client.post(f"/console/incidents/{incident.pk}/outcome/", data,
                                     follow=True)
    api = verifier.client.post(f"/api/v1/incidents/{incident.pk}/verification", data,
                               content_type="application/json", **verifier.api())
    assert api.status_code == 400
    return [said_on_page.strip(), " ".join(flash(console)),
            " ".join(api.json()["errors"].values())]


@pytest.mark.parametrize("data", [
    {"outcome": "confirmed", "notes": "x" * 2001},
    {"outcome": "maybe", "notes": ""},
])
def test_the_same_bad_finding_gets_the_same_answer_on_the_page_and_in_the_api(
        data, zone, verifier, dispatcher):
    incident = submit()
    on_page, in_console, in_api = _three_answers(incident, verifier, dispatcher, data)
    assert on_page == in_console == in_api
    incident.refresh_from_db()
    assert incident.state == State.REPORTED
    assert not incident.verifications.exists()


def test_the_same_bad_finding_is_refused_in_spanish_everywhere(zone, verifier):
    incident = submit()
    spanish = {"HTTP_ACCEPT_LANGUAGE": "es"}
    page = verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "maybe"}, **spanish)
    api = verifier.client.post(f"/api/v1/incidents/{incident.pk}/verification",
                               {"outcome": "maybe"}, content_type="application/json",
                               **spanish, **verifier.api())
    assert "Elija un resultado." in page.content.decode()
    assert api.json()["errors"]["outcome"] == "Elija un resultado."


def test_the_cost_previews_follow_the_table(zone, dispatcher, verifier):
    incident = in_state(State.CONFIRMED, verifier)
    page = html.fromstring(dispatcher.client.get(f"/console/incidents/{incident.pk}/").content)
    shown = {s.get("id") for s in page.xpath("//section[@class='sms-cost']")}
    assert shown == {"sms-cost-all_clear", "sms-cost-correction"}
