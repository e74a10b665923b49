"""The dispatcher console, the message log and the demo phone view, by persona: the
dispatcher sees and acts, a verifier and a responder are refused, an outsider is sent to
sign in."""

from __future__ import annotations

import json
import re
from html import unescape as html_unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapidresponse.accounts.models import AuditEntry
from rapidresponse.alerts.models import Alert
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident
from rapidresponse.lib import geo
from tests.conftest import BOYLE, fresh_code, make_member, make_staff, persona

NOTES = "Caller saw two vans by the laundromat"


def submit(at: tuple[float, float] = BOYLE, *, actor: Any = None, **fields: Any) -> Incident:
    data = {"latitude": at[0], "longitude": at[1], "activity": "arrests", "agency": "ice",
            "notes": NOTES, **fields}
    return do_submit_report(build_report_input(data), source="phone" if actor else "web",
                            actor=actor).incident


def spread(n: int, start: int = 0) -> list[Incident]:
    """n incidents far enough apart not to cluster, each with two reports."""
    incidents = []
    for i in range(start, start + n):
        at = (33.90 + (i // 6) * 0.05, -118.45 + (i % 6) * 0.05)
        incidents.append(submit(at))
        submit(at, contact=f"+1213555{i + 400:04d}")
    assert len({i.pk for i in incidents}) == n
    return incidents


@pytest.fixture
def checker(db: Any) -> Any:
    return make_staff("checker", "verifier").user


@pytest.fixture
def responder(db: Any) -> Any:
    return persona("resp", "responder")


def confirmed(checker: Any) -> Incident:
    incident = submit()
    do_record_verification(incident, checker, "confirmed")
    incident.refresh_from_db()
    return incident


def flash(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the dispatcher ------------------------------------------------------------------------


def test_the_dispatcher_sees_the_console(dispatcher, zone):
    incident = submit()
    page = dispatcher.client.get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-incident="{incident.pk}"' in html
    assert 'hx-get="/console/queue/"' in html
    assert "hx-trigger=\"every" in html
    assert "/console/reports/new/" in html


def test_a_coordinator_sees_the_console(coordinator, zone):
    assert coordinator.client.get("/console/").status_code == 200


def test_the_queue_partial_lists_open_incidents(dispatcher, zone, checker):
    reported = submit()
    drill = submit((34.09, -118.30), actor=dispatcher.user, is_drill=True)
    closed = submit((34.12, -118.35))
    do_record_verification(closed, checker, "not_ice")
    response = dispatcher.client.get("/console/queue/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment, swapped into the page
    assert f'data-incident="{reported.pk}"' in html
    assert f'data-incident="{drill.pk}"' in html
    assert f'data-incident="{closed.pk}"' not in html
    assert "DRILL" in html
    assert zone.name in html


def test_the_queue_shows_closed_incidents_when_asked(dispatcher, zone, checker):
    closed = submit()
    do_record_verification(closed, checker, "not_ice")
    html = dispatcher.client.get("/console/queue/?all=1").content.decode()
    assert f'data-incident="{closed.pk}"' in html


def test_the_queue_counts_reports_and_independent_reporters(dispatcher, zone):
    a, b, c = (geo.center(cell) for cell in geo.children(geo.cell_for(*BOYLE, 8), 9)[:3])
    incident = submit(a, contact="+12135550190")
    submit(b, contact="+12135550190")
    submit(c)
    html = dispatcher.client.get("/console/queue/").content.decode()
    row = re.search(rf'data-incident="{incident.pk}"[^>]*>(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[-3:-1] == ["3", "2"]


def test_the_queue_shows_newest_activity_first(dispatcher, zone):
    older, newer = spread(2)
    submit((33.90, -118.45))  # a new report on the older incident
    html = dispatcher.client.get("/console/queue/").content.decode()
    assert html.index(f'data-incident="{older.pk}"') < html.index(
        f'data-incident="{newer.pk}"')


def test_the_queue_uses_a_bounded_number_of_queries(dispatcher, zone,
                                                    django_assert_max_num_queries):
    spread(3)
    with CaptureQueriesContext(connection) as few:
        small = dispatcher.client.get("/console/queue/")
    assert small.content.count(b"data-incident=") == 3
    spread(30, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = dispatcher.client.get("/console/queue/")
    assert large.content.count(b"data-incident=") == 33


def test_the_console_page_uses_a_bounded_number_of_queries(dispatcher, zone,
                                                           django_assert_max_num_queries):
    spread(3)
    with CaptureQueriesContext(connection) as few:
        dispatcher.client.get("/console/")
    spread(30, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        dispatcher.client.get("/console/")


def test_the_incident_page_has_a_map(dispatcher, zone):
    incident = submit()
    html = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    found = re.search(r"data-incident='([^']*)'", html)
    assert found is not None
    place = json.loads(html_unescape(found.group(1)))
    assert abs(place["lat"] - BOYLE[0]) < 0.01 and abs(place["lng"] - BOYLE[1]) < 0.01
    assert len(place["boundary"]) == 6
    assert "leaflet.js" in html


def test_the_incident_page_shows_the_reports(dispatcher, zone):
    incident = submit(size=5, uniform_text="vests marked ICE", location_text="1st & Soto")
    html = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert NOTES in html
    assert "vests marked ICE" in html
    assert "1st &amp; Soto" in html
    assert "5 agents" in html


def test_the_incident_page_shows_the_timeline(dispatcher, zone, checker):
    incident = confirmed(checker)
    html = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    timeline = html[html.index('class="timeline"'):]
    assert "Incident created" in timeline
    assert "Report added" in timeline
    assert "checker" in timeline
    assert "Reported → Confirmed" in timeline


def test_the_incident_page_offers_the_actions_of_a_new_incident(dispatcher, zone):
    incident = submit()
    html = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert f'action="/console/incidents/{incident.pk}/request-verification/"' in html
    assert f'action="/console/incidents/{incident.pk}/outcome/"' in html
    assert f'action="/console/incidents/{incident.pk}/resolve/"' not in html
    assert f'action="/console/incidents/{incident.pk}/correction/"' not in html


def test_the_incident_page_offers_the_actions_of_a_confirmed_incident(dispatcher, zone,
                                                                       checker):
    incident = confirmed(checker)
    html = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert f'action="/console/incidents/{incident.pk}/resolve/"' in html
    assert f'action="/console/incidents/{incident.pk}/correction/"' in html
    assert f'action="/console/incidents/{incident.pk}/request-verification/"' not in html


def test_the_incident_page_counts_deliveries_by_status(dispatcher, zone, checker, deliver):
    make_member("Ana", "en", phone="+12135550191")
    make_member("Luz", "es", phone="+12135550192", email="luz@example.org")
    incident = confirmed(checker)
    deliver()
    make_member("Late", "en", phone="+12135550193")
    html = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    table = html[html.index('id="delivery-counts"'):]
    table = table[:table.index("</table>")]
    counts = dict(re.findall(r"<th>(.*?)</th><td>(\d+)</td>", table))
    assert counts["Sent"] == "3"
    assert counts["Queued"] == "0"
    assert "3 recipients" not in html and "2 recipients" in html


def test_the_dispatcher_requests_verification_from_the_page(dispatcher, zone, verifier):
    incident = submit()
    response = dispatcher.client.post(
        f"/console/incidents/{incident.pk}/request-verification/", follow=True)
    incident.refresh_from_db()
    assert incident.state == "verifying"
    assert "Verification requested." in flash(response)


def test_a_refused_request_says_why_and_not_that_it_worked(dispatcher, zone, checker):
    incident = confirmed(checker)  # another dispatcher's page was out of date
    response = dispatcher.client.post(
        f"/console/incidents/{incident.pk}/request-verification/", follow=True)
    messages = flash(response)
    assert any("not possible now" in m for m in messages)
    assert "Verification requested." not in messages
    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_the_dispatcher_records_an_outcome_from_the_page(dispatcher, zone):
    incident = submit()
    dispatcher.client.post(f"/console/incidents/{incident.pk}/outcome/",
                           {"outcome": "unverifiable", "notes": "no one could go"})
    incident.refresh_from_db()
    assert incident.state == "unverifiable"


def test_the_dispatcher_resolves_from_the_page(dispatcher, zone, checker):
    incident = confirmed(checker)
    response = dispatcher.client.post(f"/console/incidents/{incident.pk}/resolve/",
                                      {"send": "1"})  # the second step, after the preview
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "resolved"
    assert Alert.objects.filter(incident=incident, kind="all_clear").exists()


def test_the_dispatcher_sends_a_correction_from_the_page(dispatcher, zone, checker):
    incident = confirmed(checker)
    dispatcher.client.post(f"/console/incidents/{incident.pk}/correction/",
                           {"send": "1"})  # the second step, after the preview
    incident.refresh_from_db()
    assert incident.state == "false_alarm"


def test_an_illegal_action_from_the_page_is_explained(dispatcher, zone):
    incident = submit()
    response = dispatcher.client.post(f"/console/incidents/{incident.pk}/resolve/",
                                      follow=True)
    assert any("not possible now" in m for m in flash(response))
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_the_dispatcher_sets_the_cross_streets(dispatcher, zone):
    incident = submit()
    dispatcher.client.post(f"/console/incidents/{incident.pk}/place/",
                           {"cross_streets": "Cesar Chavez Ave & Soto St"})
    incident.refresh_from_db()
    assert incident.cross_streets == "Cesar Chavez Ave & Soto St"
    entry = AuditEntry.objects.get(action="incident.place_edited")
    assert entry.actor == dispatcher.user


def test_cross_streets_that_are_too_long_are_refused(dispatcher, zone):
    incident = submit()
    response = dispatcher.client.post(f"/console/incidents/{incident.pk}/place/",
                                      {"cross_streets": "x" * 121}, follow=True)
    assert any("Too long" in m for m in flash(response))
    incident.refresh_from_db()
    assert incident.cross_streets == ""


def test_an_unknown_action_is_404(dispatcher, zone):
    incident = submit()
    assert dispatcher.client.post(
        f"/console/incidents/{incident.pk}/explode/").status_code == 404


def test_an_unknown_incident_is_404(dispatcher, db):
    assert dispatcher.client.get("/console/incidents/9999/").status_code == 404


def test_actions_need_a_post(dispatcher, zone, checker):
    incident = confirmed(checker)
    assert dispatcher.client.get(
        f"/console/incidents/{incident.pk}/resolve/").status_code == 405
    incident.refresh_from_db()
    assert incident.state == "confirmed"


# --- who may not -------------------------------------------------------------------------

CONSOLE_PAGES = ["/console/", "/console/queue/", "/console/incidents/{id}/",
                 "/console/messages/", "/console/phone/{member}/", "/console/reports/new/"]


def page_url(path: str, incident: Incident, member_id: int) -> str:
    return path.format(id=incident.pk, member=member_id)


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_an_outsider_is_sent_to_sign_in(outsider, zone, path):
    incident = submit()
    someone = make_member("Someone", "en", phone="+12135550194")
    response = outsider.get(page_url(path, incident, someone.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_verifier_signing_in_to_the_console_is_sent_to_the_verify_list(verifier, zone):
    submit()
    response = verifier.client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/verify/"


@pytest.mark.parametrize("path", CONSOLE_PAGES[1:])
def test_a_verifier_is_refused_the_console(verifier, zone, path):
    incident = submit()
    response = verifier.client.get(page_url(path, incident, verifier.staff.member.pk))
    assert response.status_code == 403
    assert NOTES not in response.content.decode()


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_a_responder_is_refused_the_console(responder, zone, path):
    incident = submit()
    someone = make_member("Someone", "en", phone="+12135550194")
    response = responder.client.get(page_url(path, incident, someone.pk))
    assert response.status_code == 403


@pytest.mark.parametrize("action", ["request-verification", "resolve", "correction",
                                    "outcome", "place"])
def test_a_verifier_cannot_act_from_the_console(verifier, zone, checker, action):
    incident = confirmed(checker)
    response = verifier.client.post(f"/console/incidents/{incident.pk}/{action}/",
                                    {"outcome": "false_alarm", "cross_streets": "X"})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert (incident.state, incident.cross_streets) == ("confirmed", "")


@pytest.mark.parametrize("action", ["request-verification", "resolve", "correction"])
def test_an_outsider_cannot_act_from_the_console(outsider, zone, checker, action):
    incident = confirmed(checker)
    response = outsider.post(f"/console/incidents/{incident.pk}/{action}/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_the_public_navigation_has_no_console_links(client, db):
    html = client.get("/").content.decode()
    assert "/console/" not in html


# --- message log and phone view ----------------------------------------------------------------


def test_the_message_log_shows_what_was_sent(dispatcher, zone, checker, deliver):
    make_member("Ana", "en", phone="+12135550195")
    confirmed(checker)
    deliver()
    page = dispatcher.client.get("/console/messages/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "VERIFIED" in html
    assert "Ana" in html
    assert "2135550195" not in html


def test_the_phone_view_shows_what_one_member_received(dispatcher, zone, checker, deliver):
    luz = make_member("Luz", "es", phone="+12135550196")
    ana = make_member("Ana", "en", phone="+12135550197")
    confirmed(checker)
    deliver()
    html = dispatcher.client.get(f"/console/phone/{luz.pk}/").content.decode()
    assert 'lang="es"' in html
    assert "VERIFICADO" in html
    assert "VERIFIED:" not in html
    other = dispatcher.client.get(f"/console/phone/{ana.pk}/").content.decode()
    assert "VERIFIED" in other


def test_the_phone_view_of_an_unknown_member_is_404(dispatcher, db):
    assert dispatcher.client.get("/console/phone/99999/").status_code == 404


def test_the_phone_view_marks_drills(dispatcher, zone, checker, deliver):
    luz = make_member("Luz", "es", phone="+12135550196")
    incident = submit(actor=dispatcher.user, is_drill=True)
    do_record_verification(incident, checker, "confirmed")
    deliver()
    html = dispatcher.client.get(f"/console/phone/{luz.pk}/").content.decode()
    assert 'class="bubble drill"' in html


def test_staff_sign_in_leads_to_the_console(dispatcher, db):
    browser = Client()
    response = browser.post("/login/", {"username": "disp", "password": "correct-horse-1"})
    assert response.status_code == 302
    assert response["Location"] == "/login/code/?next=%2Fconsole%2F"
    response = browser.post("/login/code/", {"code": fresh_code(dispatcher.user),
                                             "next": "/console/"})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert browser.get("/console/").status_code == 200
