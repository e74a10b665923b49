"""The console during a raid: the most urgent first in an order that holds still, how long
each has waited, every state in colour and words, what reporters said of the place offered
for checking, the verifier's phone page with the place first, and a message log with
search. The browser test keeps keyboard focus across refreshes and counts new reports in
the tab's title."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rapidresponse.delivery.models import ConsoleMessage
from rapidresponse.incidents.actions import build_report_input, do_submit_report
from rapidresponse.incidents.models import Incident, State
from rapidresponse.incidents.queries import console_queue
from tests.conftest import BOYLE, make_member, make_staff, sign_in
from tests.test_browser import DESKTOP, new_context
from tests.test_browser import browser as browser  # the fixture, shared
from tests.test_browser import sign_in as sign_in_browser


def at(north_km: float, **fields: Any) -> Incident:
    """A report `north_km` north of Boyle Heights' centre (3 km apart: incidents of their own)."""
    data = {"latitude": BOYLE[0] + north_km / 111, "longitude": BOYLE[1],
            "activity": "arrests", "agency": "ice", **fields}
    return do_submit_report(build_report_input(data), source="web", actor=None).incident


def aged(incident: Incident, minutes: int, state: str = State.REPORTED) -> Incident:
    then = timezone.now() - timedelta(minutes=minutes)
    Incident.objects.filter(pk=incident.pk).update(
        created_at=then, state=state,
        confirmed_at=then if state == State.CONFIRMED else None,
        closed_at=timezone.now() if state == State.RESOLVED else None)
    return Incident.objects.get(pk=incident.pk)


@pytest.fixture
def raid(zone: Any) -> dict[str, Incident]:
    return {
        "confirmed_long_ago": aged(at(0), 50, State.CONFIRMED),
        "new_recent": aged(at(3), 2),
        "verifying": aged(at(6), 20, State.VERIFYING),
        "new_waiting_long": aged(at(9), 9),
        "resolved": aged(at(-3), 90, State.RESOLVED),
    }


def test_the_queue_puts_what_waits_first_and_holds_still(raid):
    dispatcher = make_staff("dispatcher1", "dispatcher").user
    order = [i.pk for i in console_queue(dispatcher)]
    assert order == [raid["new_waiting_long"].pk, raid["new_recent"].pk,
                     raid["verifying"].pk, raid["confirmed_long_ago"].pk]
    # More reports about the recent one do not move it above the one waiting longer.
    for _ in range(3):
        at(3)
    assert [i.pk for i in console_queue(dispatcher)] == order
    closed_too = [i.pk for i in console_queue(dispatcher, include_closed=True)]
    assert closed_too == [*order, raid["resolved"].pk]


def test_each_row_shows_its_state_in_words_and_colour_and_how_long_it_waited(client, raid):
    sign_in(client, make_staff("dispatcher1", "dispatcher").user)
    html = client.get("/console/queue/?all=1").content.decode()
    rows = {m.group(1): m.group(0) for m in re.finditer(
        r'<tr class="state-\w+" data-incident="(\d+)".*?</tr>', html, re.S)}
    waiting = rows[str(raid["new_waiting_long"].pk)]
    assert 'badge state-reported">Reported<' in waiting
    assert re.search(r"<strong>9\xa0minutes</strong>", waiting)
    assert 'badge state-verifying">Verifying<' in rows[str(raid["verifying"].pk)]
    assert "confirmed 50\xa0minutes ago" in rows[str(raid["confirmed_long_ago"].pk)]
    assert "closed at" in rows[str(raid["resolved"].pk)]


def test_the_queue_offers_what_the_reporter_said_of_the_place_until_staff_set_it(client, zone):
    incident = at(0, location_text="1st St & Soto St, by the laundromat")
    sign_in(client, make_staff("dispatcher1", "dispatcher").user)
    row = client.get("/console/queue/").content.decode()
    assert "reported: “1st St &amp; Soto St, by the laundromat” (unchecked)" in row
    page = client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert '<option value="1st St &amp; Soto St, by the laundromat">' in page
    client.post(f"/console/incidents/{incident.pk}/place/", {"cross_streets": "1st St & Soto St"})
    row = client.get("/console/queue/").content.decode()
    assert "1st St &amp; Soto St, Boyle Heights" in row and "unchecked" not in row


def test_a_report_with_only_cross_streets_and_a_neighbourhood_is_accepted(client, zone):
    answer = client.post("/report/", {"zone": zone.pk, "location_text": "Cesar Chavez & Soto",
                                      "activity": "arrests", "agency": "ice"})
    assert answer.status_code == 302 and answer["Location"] == "/report/thanks/"
    incident = Incident.objects.get()
    assert incident.zone == zone
    assert incident.reports.get().location_text == "Cesar Chavez & Soto"


def test_the_verifiers_phone_page_shows_the_place_first_with_a_map_link(client, zone):
    incident = at(0, location_text="Whittier & Lorena")
    verifier = make_staff("verifier1", "verifier").user
    sign_in(client, verifier)
    html = client.get(f"/verify/{incident.pk}/").content.decode()
    assert html.index('id="place"') < html.index(f'action="/verify/{incident.pk}/"')
    link = re.search(r'id="open-map" href="geo:([-\d.]+),([-\d.]+)\?q=', html)
    assert link is not None
    assert abs(float(link.group(1)) - BOYLE[0]) < 0.01
    assert abs(float(link.group(2)) - BOYLE[1]) < 0.01
    assert "A reporter wrote: “Whittier &amp; Lorena”" in html


def test_the_message_log_can_be_searched(client, zone):
    member = make_member("Ana", "es", phone="+12135550101")
    for text, channel in (("ICE activity reported at Soto", "sms"),
                          ("All clear at Soto", "sms"), ("Meeting on Tuesday", "email")):
        ConsoleMessage.objects.create(channel=channel, member=member, to_masked="+1213•••0101",
                                      text=text, language="es")
    sign_in(client, make_staff("dispatcher1", "dispatcher").user)

    def found(query: str) -> list[str]:
        html = client.get("/console/messages/" + query).content.decode()
        return sorted(t for t in ("ICE activity", "All clear", "Meeting") if t in html)

    assert found("?q=soto") == ["All clear", "ICE activity"]
    assert found("?q=soto&channel=email") == []
    assert found("?channel=email") == ["Meeting"]
    assert found("?q=0101") == ["All clear", "ICE activity", "Meeting"]
    assert "No message matches." in client.get("/console/messages/?q=nothing").content.decode()


@pytest.mark.browser
def test_focus_stays_and_the_title_counts_new_reports(browser, live_server, raid):
    make_staff("dispatcher1", "dispatcher")
    context = new_context(browser, live_server, DESKTOP)
    page = sign_in_browser(context, "dispatcher1", start="/console/")
    expect(page).to_have_title(re.compile(r"^\(2\) "))
    link = page.locator(f"a[data-focus-key='incident-{raid['verifying'].pk}']")
    link.focus()
    at(12)  # a new report arrives while the dispatcher reads the queue
    expect(page).to_have_title(re.compile(r"^\(3\) "))
    for _ in range(2):
        with page.expect_response(lambda r: "/console/queue/" in r.url):
            pass
    assert page.evaluate("document.activeElement.dataset.focusKey") == \
        f"incident-{raid['verifying'].pk}"
    rows = page.locator("#queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.state)")
    assert rows == ["reported", "reported", "reported", "verifying", "confirmed"]


def test_beside_the_queue_the_dispatches_in_progress_nobody_left_first(client, zone):
    from rapidresponse.dispatch.models import Assignment, AssignmentStatus, Dispatch

    sign_in(client, make_staff("dispatcher1", "dispatcher").user)
    observer = make_staff("observer", "responder")
    asking = Dispatch.objects.create(incident=at(0), skill="legal_observer", count=2, rings=3,
                                     round_at=timezone.now())
    Assignment.objects.create(dispatch=asking, staff=observer,
                              status=AssignmentStatus.CHECKED_IN)
    stuck = Dispatch.objects.create(incident=at(3), skill="interpreter", count=1, rings=9,
                                    round_at=timezone.now(), status=Dispatch.Status.EXHAUSTED)
    Dispatch.objects.create(incident=at(6), skill="legal_observer", count=1, rings=3,
                            round_at=timezone.now(), status=Dispatch.Status.CLOSED)
    html = client.get("/console/").content.decode()
    panel = html[html.index('id="console-dispatches"'):]
    rows = re.findall(r'data-dispatch="(\d+)"', panel)
    assert rows == [str(stuck.pk), str(asking.pk)]
    first = panel[panel.index(f'data-dispatch="{asking.pk}"'):]
    assert "<td>1 / 2</td>" in first and "<td>1</td>" in first
    assert "Nobody left to ask" in panel


@pytest.mark.browser
def test_the_incident_timeline_is_live(browser, live_server, zone):
    from rapidresponse.incidents.actions import do_record_verification

    make_staff("dispatcher1", "dispatcher")
    incident = at(0)
    context = new_context(browser, live_server, DESKTOP)
    page = sign_in_browser(context, "dispatcher1", start=f"/console/incidents/{incident.pk}/")
    expect(page.locator("#timeline")).not_to_contain_text("Finding recorded")
    do_record_verification(incident, make_staff("checker", "verifier").user, "not_ice")
    # No reload: the timeline fetches itself again.
    expect(page.locator("#timeline")).to_contain_text("Finding recorded")
