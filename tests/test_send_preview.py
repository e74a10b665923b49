"""See before you send: confirming (on the verifier's page and in the console), resolving and
correcting first show exactly what would go out (the text in each language, how many members
on which channel, the SMS cost) and ask once more; nothing changes until then. The API
confirms directly and has GET /api/v1/incidents/{id}/preview to look first."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import html as lxml_html

from rapidresponse.alerts.compose import compose
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.models import Delivery
from rapidresponse.incidents.actions import do_record_verification
from rapidresponse.incidents.models import Verification
from rapidresponse.incidents.queries import facts_of, preview_of
from tests.conftest import BOYLE, FAR, Persona, make_member, make_staff, persona
from tests.zones_support import report


@pytest.fixture
def verifier(db: Any) -> Persona:
    """A verifier with no place of their own (so not among the members an alert reaches)."""
    return persona("looker", "verifier")


@pytest.fixture
def neighbours(zone: Any) -> list[Any]:
    """Two members near Boyle Heights (one on SMS and email) and one far away."""
    return [make_member("Ana", "es", phone="+12135550101"),
            make_member("Bo", "en", phone="+12135550102", email="bo@example.org"),
            make_member("Cy", "en", phone="+18185550103", at=FAR)]


def page(response: Any) -> Any:
    return lxml_html.fromstring(response.content)


def counts(tree: Any, table: str) -> dict[str, str]:
    return {row.xpath("td")[0].text_content(): row.xpath("td")[1].text_content()
            for row in tree.xpath(f"//table[@id='{table}']//tr[td]")}


def confirmed(incident: Any) -> Any:
    do_record_verification(incident, make_staff("checker", "verifier").user, "confirmed")
    incident.refresh_from_db()
    return incident


# --- confirming -----------------------------------------------------------------------------


def test_confirming_on_the_verify_page_shows_the_alert_first(neighbours, verifier):
    incident = report(BOYLE)
    response = verifier.client.post(f"/verify/{incident.pk}/",
                                    {"outcome": "confirmed", "notes": "two vans"})
    assert response.status_code == 200
    tree = page(response)
    texts = compose("alert", facts_of(incident))
    for language in ("en", "es"):
        [bubble] = tree.xpath(f"//article[@data-language='{language}']")
        assert texts[language]["text"] in bubble.text_content()
    assert tree.xpath("string(//p[@id='audience'])").strip() == "2 members"
    assert counts(tree, "by-channel") == {"SMS": "2", "Email": "1"}
    assert counts(tree, "by-language") == {"English": "1", "Spanish": "1"}
    assert tree.xpath("//section[@id='sms-cost-alert']")
    assert tree.xpath("string(//button[@id='send'])").strip() == "Confirm and send to 2 members"
    assert tree.xpath("//input[@name='notes']/@value") == ["two vans"]
    incident.refresh_from_db()
    assert incident.state == "reported"
    assert not Verification.objects.exists() and not Alert.objects.exists()


def test_the_second_step_confirms_and_sends_to_exactly_those_members(neighbours, verifier):
    incident = report(BOYLE)
    shown = preview_of(incident, "alert")
    response = verifier.client.post(f"/verify/{incident.pk}/",
                                    {"outcome": "confirmed", "notes": "two vans", "send": "1"})
    assert response.status_code == 302
    alert = Alert.objects.get(incident=incident)
    assert alert.recipient_count == shown.members == 2
    by_channel: dict[str, int] = {}
    for channel in Delivery.objects.filter(message=alert.message).values_list("channel",
                                                                               flat=True):
        by_channel[channel] = by_channel.get(channel, 0) + 1
    assert by_channel == shown.by_channel == {"sms": 2, "email": 1}
    assert Verification.objects.get().notes == "two vans"


def test_when_two_must_confirm_the_first_is_told_nothing_goes_yet(neighbours, verifier,
                                                                   settings):
    settings.VERIFICATIONS_REQUIRED = 2
    incident = report(BOYLE)
    tree = page(verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "confirmed"}))
    assert "1 of 2" in tree.xpath("string(//p[@id='not-yet'])")
    assert tree.xpath("string(//button[@id='send'])").strip() == "Confirm"


def test_the_last_of_two_is_told_it_sends(neighbours, verifier, settings):
    settings.VERIFICATIONS_REQUIRED = 2
    incident = report(BOYLE)
    do_record_verification(incident, make_staff("first", "verifier").user, "confirmed")
    tree = page(verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "confirmed"}))
    assert not tree.xpath("//p[@id='not-yet']")
    assert "Confirm and send to 2 members" in tree.xpath("string(//button[@id='send'])")


def test_confirming_in_the_console_shows_the_alert_first(neighbours, dispatcher):
    incident = report(BOYLE)
    response = dispatcher.client.post(f"/console/incidents/{incident.pk}/outcome/",
                                      {"outcome": "confirmed"})
    assert response.status_code == 200
    tree = page(response)
    assert tree.xpath("//form[@class='send-step']/@action") == [
        f"/console/incidents/{incident.pk}/outcome/"]
    assert tree.xpath("//a[text()='Cancel: send nothing']/@href") == [
        f"/console/incidents/{incident.pk}/"]
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_other_findings_are_recorded_at_once(neighbours, verifier):
    incident = report(BOYLE)
    response = verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "not_ice"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "not_ice"


def test_a_bad_finding_is_refused_before_the_preview(neighbours, verifier):
    incident = report(BOYLE)
    response = verifier.client.post(f"/verify/{incident.pk}/",
                                    {"outcome": "confirmed", "notes": "x" * 2001})
    assert response.status_code == 400
    assert not page(response).xpath("//section[@id='send-preview']")


def test_the_preview_is_in_spanish(neighbours, verifier):
    incident = report(BOYLE)
    tree = page(verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "confirmed"},
                                     HTTP_ACCEPT_LANGUAGE="es"))
    assert tree.xpath("string(//button[@id='send'])").strip() == (
        "Confirmar y enviar a 2 miembros")


# --- resolving and correcting ---------------------------------------------------------------


@pytest.mark.parametrize("name,kind,button,state", [
    ("resolve", "all_clear", "Resolve and send the all-clear to 2 members", "resolved"),
    ("correction", "correction", "Send the correction to 2 members", "false_alarm"),
])
def test_resolving_and_correcting_show_what_goes_out_then_ask_again(
        neighbours, dispatcher, name, kind, button, state):
    incident = confirmed(report(BOYLE))
    response = dispatcher.client.post(f"/console/incidents/{incident.pk}/{name}/")
    assert response.status_code == 200
    tree = page(response)
    assert tree.xpath("//section[@id='send-preview']/@data-kind") == [kind]
    assert compose(kind, facts_of(incident))["es"]["text"] in tree.xpath(
        "string(//article[@data-language='es'])")
    assert counts(tree, "by-channel") == {"SMS": "2", "Email": "1"}
    assert tree.xpath("string(//button[@id='send'])").strip() == button
    incident.refresh_from_db()
    assert incident.state == "confirmed"
    response = dispatcher.client.post(f"/console/incidents/{incident.pk}/{name}/",
                                      {"send": "1"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == state
    follow = Alert.objects.get(incident=incident, kind=kind)
    assert follow.recipient_count == 2


def test_a_preview_of_an_impossible_step_says_why(neighbours, dispatcher):
    incident = report(BOYLE)
    response = dispatcher.client.post(f"/console/incidents/{incident.pk}/resolve/",
                                      follow=True)
    assert any("not possible now" in str(m) for m in response.context["messages"])


# --- the API --------------------------------------------------------------------------------


def test_the_api_previews_the_alert(neighbours, verifier):
    incident = report(BOYLE)
    response = verifier.client.get(f"/api/v1/incidents/{incident.pk}/preview",
                                   **verifier.api())
    assert response.status_code == 200
    data = response.json()
    assert data["confirmations"] == {"counted": 0, "required": 1}
    [alert] = data["messages"]
    assert alert["kind"] == "alert"
    assert alert["texts"] == compose("alert", facts_of(incident))
    assert alert["recipients"] == {"members": 2, "by_language": {"en": 1, "es": 1},
                                   "by_channel": {"email": 1, "sms": 2}}
    assert alert["sms"]["recipients"] == 2
    assert {row["language"] for row in alert["sms"]["by_language"]} == {"en", "es"}
    assert alert["sms"]["cost"].startswith("$")
    incident.refresh_from_db()
    assert incident.state == "reported" and not Alert.objects.exists()


def test_the_api_previews_the_all_clear_and_the_correction(neighbours, dispatcher):
    incident = confirmed(report(BOYLE))
    data = dispatcher.client.get(f"/api/v1/incidents/{incident.pk}/preview",
                                 **dispatcher.api()).json()
    assert [m["kind"] for m in data["messages"]] == ["all_clear", "correction"]
    assert all(m["recipients"]["members"] == 2 for m in data["messages"])


def test_the_api_preview_needs_a_token(neighbours, client):
    incident = report(BOYLE)
    assert client.get(f"/api/v1/incidents/{incident.pk}/preview").status_code == 401


def test_the_api_still_confirms_in_one_call(neighbours, verifier):
    incident = report(BOYLE)
    response = verifier.client.post(f"/api/v1/incidents/{incident.pk}/verification",
                                    {"outcome": "confirmed"}, content_type="application/json",
                                    **verifier.api())
    assert response.json() == {"incident_id": incident.pk, "state": "confirmed"}
