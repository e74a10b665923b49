"""Shifts: weekly schedules in the network's time zone (overnight, across changes of clock),
primary then backup, swaps, who is on call now, gaps in the coming week, the console's and
the incident page's panel, the week's calendar page and the shift form, scoped by zone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from rapidresponse.accounts.models import Staff
from rapidresponse.incidents.actions import do_request_verification
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.responders.actions import do_set_availability, do_swap
from rapidresponse.responders.models import ShiftOverride, ShiftSchedule
from rapidresponse.responders.queries import (
    NO_BACKUP,
    NOBODY,
    coverage_gaps,
    on_call_board,
    on_call_now,
)
from rapidresponse.responders.schedule import bounds, occurrences
from rapidresponse.zones.models import Zone
from tests.conftest import BOYLE, FAR, NEAR, persona, work_in
from tests.responders_support import responder, shift, utc
from tests.test_console import submit

SATURDAY_BEFORE_SPRING = date(2026, 3, 7)  # clocks go forward at 02:00 on Sunday 8 March
SATURDAY_BEFORE_FALL = date(2026, 10, 31)  # and back at 02:00 on Sunday 1 November
SAT = "5"


def who(entries):
    return [(e.staff.user.username, str(e.role)) for e in entries]


def test_an_overnight_shift_ends_the_next_morning(zone):
    ana = responder("ana")
    s = shift(zone, "legal_observer", ana, weekdays="0", starts="18:00", ends="06:00")
    start, end = bounds(s, date(2026, 1, 12))  # a Monday in winter: UTC-8
    assert (start, end) == (utc(2026, 1, 13, 2), utc(2026, 1, 13, 14))
    assert who(on_call_now(zone, "legal_observer", utc(2026, 1, 13, 13, 59))) == [
        ("ana", "primary")]
    assert on_call_now(zone, "legal_observer", utc(2026, 1, 13, 14)) == []
    assert on_call_now(zone, "legal_observer", utc(2026, 1, 13, 1, 59)) == []


def test_overnight_shifts_across_the_changes_of_clock_follow_the_wall_clock(zone):
    ana = responder("ana")
    s = shift(zone, "legal_observer", ana, weekdays=SAT, starts="18:00", ends="06:00")
    spring = bounds(s, SATURDAY_BEFORE_SPRING)
    assert spring == (utc(2026, 3, 8, 2), utc(2026, 3, 8, 13))  # 18:00 PST to 06:00 PDT
    assert spring[1] - spring[0] == timedelta(hours=11)
    fall = bounds(s, SATURDAY_BEFORE_FALL)
    assert fall == (utc(2026, 11, 1, 1), utc(2026, 11, 1, 14))  # 18:00 PDT to 06:00 PST
    assert fall[1] - fall[0] == timedelta(hours=13)
    assert who(on_call_now(zone, "legal_observer", utc(2026, 3, 8, 12, 30))) == [
        ("ana", "primary")]
    assert on_call_now(zone, "legal_observer", utc(2026, 3, 8, 13, 30)) == []
    assert who(on_call_now(zone, "legal_observer", utc(2026, 11, 1, 13, 30))) == [
        ("ana", "primary")]


def test_a_day_shift_keeps_its_local_hours_in_summer_and_winter(zone):
    s = shift(zone, "verifier", None, starts="09:00", ends="17:00")
    assert bounds(s, date(2026, 1, 5)) == (utc(2026, 1, 5, 17), utc(2026, 1, 6, 1))
    assert bounds(s, date(2026, 7, 6)) == (utc(2026, 7, 6, 16), utc(2026, 7, 7, 0))


def test_only_the_chosen_weekdays_and_dates(zone):
    s = shift(zone, "verifier", None, weekdays="01234", starts="18:00", ends="06:00",
              first_day=date(2026, 1, 6), last_day=date(2026, 1, 9))
    days = [o.day for o in occurrences([s], utc(2026, 1, 1), utc(2026, 1, 20))]
    assert days == [date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 8), date(2026, 1, 9)]


def test_primary_then_backup_and_the_backup_steps_up(zone):
    ana, ben = responder("ana"), responder("ben")
    shift(zone, "legal_observer", ana, ben)
    assert who(on_call_now(zone, "legal_observer")) == [("ana", "primary"), ("ben", "backup")]
    do_set_availability(ana, "not_today")
    assert who(on_call_now(zone, "legal_observer")) == [("ben", "backup")]


def test_someone_on_shift_without_a_current_training_is_not_on_call(zone):
    ana, ben = responder("ana", expired=True), responder("ben")
    shift(zone, "legal_observer", ana, ben)
    assert who(on_call_now(zone, "legal_observer")) == [("ben", "backup")]
    assert on_call_now(zone, "verifier") == []


def test_the_region_s_shift_covers_its_neighbourhoods_after_their_own(db):
    region = Zone.objects.create(name="Los Angeles")
    boyle = Zone.objects.create(name="Boyle Heights", parent=region)
    ana_v, ben_v = responder("anav", ("verifier",)), responder("benv", ("verifier",))
    shift(region, "verifier", ana_v)
    shift(boyle, "verifier", ben_v)
    assert who(on_call_now(boyle, "verifier")) == [("benv", "primary"), ("anav", "primary")]
    assert who(on_call_now(region, "verifier")) == [("anav", "primary")]


def test_a_swap_puts_someone_else_on_one_night(zone, coordinator):
    ana, ben, cy = responder("ana"), responder("ben"), responder("cy")
    s = shift(zone, "legal_observer", ana, ben, weekdays="0", starts="18:00", ends="06:00")
    people = Staff.objects.all()
    do_swap(coordinator.user, s, "2026-01-12", "primary", str(cy.pk), people=people)
    assert who(on_call_now(zone, "legal_observer", utc(2026, 1, 13, 3))) == [
        ("cy", "primary"), ("ben", "backup")]
    assert who(on_call_now(zone, "legal_observer", utc(2026, 1, 20, 3))) == [
        ("ana", "primary"), ("ben", "backup")]
    do_swap(coordinator.user, s, "2026-01-12", "backup", "none", people=people)
    assert who(on_call_now(zone, "legal_observer", utc(2026, 1, 13, 3))) == [
        ("cy", "primary")]
    do_swap(coordinator.user, s, "2026-01-12", "primary", "", people=people)
    assert ShiftOverride.objects.filter(role="primary").count() == 0
    with pytest.raises(InvalidInput) as exc:
        do_swap(coordinator.user, s, "2026-01-13", "primary", str(cy.pk), people=people)
    assert "day" in exc.value.errors  # a Tuesday: no shift starts then


def test_gaps_nobody_and_no_backup_over_the_week(zone):
    ana, ben = responder("ana"), responder("ben")
    # Weekdays 08:00-20:00 with a backup; weekday nights only ana; weekends nobody.
    shift(zone, "legal_observer", ana, ben, weekdays="01234", starts="08:00", ends="20:00")
    shift(zone, "legal_observer", ana, None, weekdays="01234", starts="20:00", ends="08:00")
    monday = utc(2026, 1, 12, 8)  # 00:00 in Los Angeles
    [coverage] = coverage_gaps([zone], ["legal_observer"], monday, days=7)
    assert coverage.nobody_hours == 8 + 40  # Monday 00-08, Saturday 08 to Monday 00
    assert coverage.no_backup_hours == 5 * 12  # five nights
    kinds = [(g.kind, g.start, g.end) for g in coverage.gaps]
    assert kinds[0] == (NOBODY, utc(2026, 1, 12, 8), utc(2026, 1, 12, 16))  # Mon 00-08
    assert (NO_BACKUP, utc(2026, 1, 13, 4), utc(2026, 1, 13, 16)) in kinds  # Mon night
    assert kinds[-1] == (NOBODY, utc(2026, 1, 17, 16), utc(2026, 1, 19, 8))  # Sat 08:00-


def test_a_gap_where_the_only_person_lacks_a_current_training(zone):
    shift(zone, "legal_observer", responder("ana", expired=True))
    [coverage] = coverage_gaps([zone], ["legal_observer"], timezone.now(), days=1)
    assert coverage.nobody_hours == 24


def test_gaps_over_the_day_clocks_go_forward_count_23_hours(zone):
    shift(zone, "legal_observer", responder("ana"), weekdays="6")  # Sundays, whole day
    sunday = utc(2026, 3, 8, 8)  # 00:00 PST
    [coverage] = coverage_gaps([zone], ["legal_observer"], sunday, days=1)
    # 24 UTC hours from local midnight: 23 of them are Sunday (covered, no backup), the
    # last is Monday 00:00-01:00 PDT (nobody).
    assert coverage.no_backup_hours == 23
    assert coverage.nobody_hours == 1


def test_on_call_board_queries_do_not_grow_with_zones(db, django_assert_max_num_queries):
    zones = [Zone.objects.create(name=f"Z{i}") for i in range(6)]
    for i, z in enumerate(zones):
        shift(z, "verifier", responder(f"v{i}", ("verifier",)), responder(f"b{i}",
                                                                         ("verifier",)))
    with django_assert_max_num_queries(6):
        board = on_call_board(zones, ["verifier", "legal_observer"])
    assert all(len(board[(z.pk, "verifier")]) == 2 for z in zones)


# --- pages and panels ------------------------------------------------------------------------


def test_the_console_shows_who_is_on_call_beside_the_queue(zone, dispatcher):
    shift(zone, "verifier", responder("ana", ("verifier",), role="verifier"),
          responder("ben", ("verifier",), role="verifier"))
    page = dispatcher.client.get("/console/").content.decode()
    assert 'id="panel-on-call"' in page
    panel = page[page.index('id="panel-on-call"'):]
    assert "Boyle Heights" in panel and "Verifier" in panel
    assert panel.index("ana") < panel.index("ben")
    assert "primary" in panel and "backup" in panel


def test_the_incident_page_shows_who_is_on_call_for_its_zone(zone, dispatcher):
    other = Zone.objects.create(name="Elsewhere")
    shift(zone, "legal_observer", responder("ana"))
    shift(other, "legal_observer", responder("zed"))
    incident = submit()
    page = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    panel = page[page.index('id="panel-on-call"'):]
    assert "On call for this place" in panel and "ana" in panel and "zed" not in panel


def test_the_console_panel_shows_only_the_viewer_s_zones(zone, dispatcher):
    other = Zone.objects.create(name="Elsewhere")
    shift(zone, "legal_observer", responder("ana"))
    shift(other, "legal_observer", responder("zed"))
    work_in(dispatcher.staff, other)
    page = dispatcher.client.get("/console/").content.decode()
    panel = page[page.index('id="panel-on-call"'):]
    assert "zed" in panel and "ana" not in panel


def test_the_week_calendar_lists_each_day_with_local_times(zone, dispatcher):
    ana = responder("ana")
    shift(zone, "legal_observer", ana, weekdays="5", starts="18:00", ends="06:00")
    page = dispatcher.client.get("/console/shifts/?week=2026-03-04").content.decode()
    assert "week of 2 March 2026" in page
    saturday = page[page.index('id="day-2026-03-07"'):page.index('id="day-2026-03-08"')]
    assert "18:00–06:00" in saturday and "ana" in saturday
    assert "18:00" not in page[page.index('id="day-2026-03-08"'):]


def test_the_gaps_page_highlights_hours_with_nobody(zone, coordinator):
    shift(zone, "legal_observer", responder("ana"), weekdays="01234", starts="08:00",
          ends="20:00")
    page = coordinator.client.get("/console/shifts/gaps/").content.decode()
    assert "Boyle Heights · Legal observer" in page
    assert "nobody on call" in page and "no backup" in page


def test_shift_pages_are_scoped_by_zone(db):
    region = Zone.objects.create(name="Los Angeles")
    boyle = Zone.objects.create(name="Boyle Heights", parent=region)
    nuys = Zone.objects.create(name="Van Nuys", parent=region)
    s = shift(boyle, "legal_observer", responder("ana", zones=[boyle]))
    coord = persona("coordvn", "coordinator")
    work_in(coord.staff, nuys)
    assert coord.client.get(f"/console/shifts/{s.pk}/").status_code == 404
    assert coord.client.post(f"/console/shifts/{s.pk}/delete/").status_code == 404
    assert coord.client.post(f"/console/shifts/{s.pk}/swap/", {
        "day": "2026-01-12", "role": "primary", "person": "none"}).status_code == 404
    assert "ana" not in coord.client.get("/console/shifts/?week=2026-01-12").content.decode()
    assert ShiftSchedule.objects.filter(pk=s.pk).exists()
    response = coord.client.post("/console/shifts/new/", {
        "zone": boyle.pk, "skill": "verifier", "weekdays": ["0"], "starts_at": "18:00",
        "ends_at": "06:00", "first_day": "2026-01-12"})
    assert response.status_code == 400 and "Choose a zone." in response.content.decode()


def test_a_coordinator_makes_a_shift_with_the_form(zone, coordinator):
    ana, ben = responder("ana"), responder("ben")
    response = coordinator.client.post("/console/shifts/new/", {
        "zone": zone.pk, "skill": "legal_observer", "weekdays": ["0", "1", "2", "3", "4"],
        "starts_at": "18:00", "ends_at": "06:00", "first_day": "2026-01-05",
        "primary": ana.pk, "backup": ben.pk})
    assert response.status_code == 302
    s = ShiftSchedule.objects.get()
    assert (s.weekdays, s.primary, s.backup) == ("01234", ana, ben)
    response = coordinator.client.post(f"/console/shifts/{s.pk}/", {
        "zone": zone.pk, "skill": "legal_observer", "weekdays": [], "starts_at": "25:00",
        "ends_at": "06:00", "first_day": "2026-01-05", "primary": ana.pk,
        "backup": ana.pk})
    assert response.status_code == 400
    page = response.content.decode()
    for message in ("Choose at least one day of the week.", "HH:MM",
                    "The backup must be someone other than the primary."):
        assert message in page


def test_a_dispatcher_may_see_but_not_change_shifts(zone, dispatcher):
    s = shift(zone, "legal_observer", responder("ana"))
    assert dispatcher.client.get("/console/shifts/").status_code == 200
    assert dispatcher.client.get(f"/console/shifts/{s.pk}/").status_code == 403
    assert dispatcher.client.get("/console/shifts/gaps/").status_code == 403


def test_the_calendar_page_in_spanish(zone, dispatcher):
    shift(zone, "legal_observer", responder("ana"))
    page = dispatcher.client.get("/console/shifts/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Turnos" in page and "Observador legal" in page


# --- verification requests use shifts and the verifier skill ----------------------------


def test_verification_asks_the_verifier_on_shift_first(zone, dispatcher, verifier):
    # `verifier` (the fixture) is on call, lives at Boyle Heights; the one on shift lives
    # far away but goes first, then their backup, then the on-call verifier.
    on_shift = responder("shifty", ("verifier",), role="verifier", at=FAR,
                         phone="+13235550171")
    backup = responder("backy", ("verifier",), role="verifier", at=FAR,
                       phone="+13235550172")
    shift(zone, "verifier", on_shift, backup)
    requests = do_request_verification(submit(), dispatcher.user)
    assert [r.verifier.user.username for r in requests] == ["shifty", "backy", "veri"]


def test_an_available_trained_verifier_is_asked_by_distance(zone, dispatcher, settings):
    settings.VERIFIERS_PER_REQUEST = 2
    responder("faraway", ("verifier",), role="verifier", at=FAR, phone="+13235550173")
    responder("nearby", ("verifier",), role="verifier", at=NEAR, phone="+13235550174")
    responder("lapsed", ("verifier",), role="verifier", at=NEAR, phone="+13235550175",
              expired=True)
    responder("observer", ("verifier",), role="responder", at=NEAR, phone="+13235550176")
    requests = do_request_verification(submit(), dispatcher.user)
    assert [r.verifier.user.username for r in requests] == ["nearby", "faraway"]


def test_the_on_call_verifier_alone_works_as_before(zone, dispatcher, verifier):
    requests = do_request_verification(submit(at=BOYLE), dispatcher.user)
    assert [r.verifier.user.username for r in requests] == ["veri"]
