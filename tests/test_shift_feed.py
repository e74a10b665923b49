"""Each responder's shifts as an iCalendar feed behind a private link they can see, copy and
revoke: parsed back with icalendar, with zone and skill and no one else's name or number."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from django.test import Client
from django.utils import timezone

from rapidresponse.accounts.models import AuditEntry
from rapidresponse.responders.actions import (
    calendar_token,
    do_new_calendar_link,
    do_revoke_calendar_link,
)
from rapidresponse.responders.models import CalendarFeed
from rapidresponse.responders.schedule import local_day
from tests.conftest import Persona, sign_in
from tests.responders_support import responder, shift


@pytest.fixture
def ana(zone) -> Persona:
    staff = responder("ana", phone="+13235550181")
    return Persona(staff=staff, client=sign_in(Client(), staff.user), token="")


def events(body: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def test_the_feed_holds_my_shifts_with_zone_and_skill_and_no_one_else(zone, ana):
    ben = responder("ben", phone="+13235550182")
    shift(zone, "legal_observer", ana.staff, ben, starts="18:00", ends="06:00")
    shift(zone, "verifier", ben, None)  # not ana's
    token = do_new_calendar_link(ana.staff)
    response = Client().get(f"/shifts/{token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    found = events(response.content)
    assert 8 * 7 <= len(found) <= 9 * 7 + 1  # a week back, eight weeks ahead, every night
    first = found[0]
    assert str(first["summary"]) == "On call: Legal observer, Boyle Heights (primary)"
    assert str(first["location"]) == "Boyle Heights"
    start, end = first.decoded("dtstart"), first.decoded("dtend")
    assert end - start in (timedelta(hours=11), timedelta(hours=12), timedelta(hours=13))
    local = start.astimezone(timezone.get_default_timezone())
    assert (local.hour, local.minute) == (18, 0)
    assert len({str(e["uid"]) for e in found}) == len(found)
    text = response.content.decode()
    assert "ben" not in text and "Verifier" not in text
    assert "555" not in text and "@example" not in text


def test_a_swap_moves_the_event(zone, ana):
    ben = responder("ben")
    s = shift(zone, "legal_observer", ana.staff, None, starts="18:00", ends="06:00")
    tomorrow = local_day(timezone.now()) + timedelta(days=1)
    s.overrides.create(day=tomorrow, role="primary", staff=ben)
    token = do_new_calendar_link(ana.staff)
    days = {e.decoded("dtstart").astimezone(timezone.get_default_timezone()).date()
            for e in events(Client().get(f"/shifts/{token}.ics").content)}
    assert tomorrow not in days and tomorrow + timedelta(days=1) in days
    ben_token = do_new_calendar_link(ben)
    ben_events = events(Client().get(f"/shifts/{ben_token}.ics").content)
    assert [e.decoded("dtstart").astimezone(timezone.get_default_timezone()).date()
            for e in ben_events] == [tomorrow]


def test_only_a_hash_finds_the_feed_and_the_token_is_kept_encrypted(ana):
    token = do_new_calendar_link(ana.staff)
    feed = CalendarFeed.objects.get()
    assert token not in feed.token_hash and token not in feed.token_encrypted
    assert calendar_token(ana.staff) == token
    assert len(token) >= 40


def test_revoking_makes_the_old_link_404_at_once(ana):
    token = do_new_calendar_link(ana.staff)
    assert Client().get(f"/shifts/{token}.ics").status_code == 200
    assert do_revoke_calendar_link(ana.staff)
    assert Client().get(f"/shifts/{token}.ics").status_code == 404
    new = do_new_calendar_link(ana.staff)
    replaced = do_new_calendar_link(ana.staff)
    assert Client().get(f"/shifts/{new}.ics").status_code == 404
    assert Client().get(f"/shifts/{replaced}.ics").status_code == 200


def test_a_switched_off_login_s_feed_is_gone(ana):
    token = do_new_calendar_link(ana.staff)
    ana.staff.user.is_active = False
    ana.staff.user.save()
    assert Client().get(f"/shifts/{token}.ics").status_code == 404


def test_a_made_up_link_is_404(db):
    assert Client().get("/shifts/nothing-here.ics").status_code == 404
    assert Client().get("/shifts/" + "x" * 300 + ".ics").status_code == 404


def test_the_responder_sees_copies_and_revokes_the_link_on_their_page(ana):
    page = ana.client.get("/responder/").content.decode()
    assert 'id="make-feed"' in page
    assert ana.client.post("/responder/calendar/new/").status_code == 302
    token = calendar_token(ana.staff)
    page = ana.client.get("/responder/").content.decode()
    assert f"/shifts/{token}.ics" in page and 'data-copy="feed-url"' in page
    assert ana.client.post("/responder/calendar/revoke/").status_code == 302
    assert Client().get(f"/shifts/{token}.ics").status_code == 404
    assert 'id="make-feed"' in ana.client.get("/responder/").content.decode()
    audit = list(AuditEntry.objects.filter(action__startswith="responder.calendar")
                 .values_list("detail", flat=True))
    assert audit and all(token not in str(d) for d in audit)


def test_the_feed_speaks_the_responder_s_language(zone, ana):
    member = ana.staff.member
    member.language = "es"
    member.save()
    shift(zone, "legal_observer", ana.staff)
    token = do_new_calendar_link(ana.staff)
    first = events(Client().get(f"/shifts/{token}.ics").content)[0]
    assert str(first["summary"]).startswith("De guardia: Observador legal")
