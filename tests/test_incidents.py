"""Incidents: clustering reports, counting independent reporters, the state machine with its
audit trail, and expiry of incidents that were never verified."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapidresponse.accounts.models import AuditEntry
from rapidresponse.incidents import queries
from rapidresponse.incidents.actions import (
    TransitionError,
    build_report_input,
    corroboration,
    do_expire_stale,
    do_record_verification,
    do_request_verification,
    do_resolve,
    do_send_correction,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident, Report
from rapidresponse.lib import geo
from rapidresponse.zones.models import Zone, ZoneCell
from tests.conftest import BOYLE, FAR, make_staff


def submit(at: tuple[float, float] = BOYLE, *, actor: Any = None, source: str = "web",
           **fields: Any) -> Report:
    data = {"latitude": at[0], "longitude": at[1], "activity": "arrests", "agency": "ice",
            **fields}
    return do_submit_report(build_report_input(data), source=source, actor=actor)


def point_rings_away(origin: tuple[float, float], k: int) -> tuple[float, float]:
    """The centre of a resolution-8 cell exactly k rings from the origin's cell."""
    c8 = geo.cell_for(*origin, 8)
    cell = next(c for c, d in geo.rings(c8, k) if d == k)
    return geo.center(cell)


def audit_for(incident: Incident) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="incident", object_id=incident.pk))


def transitions(incident: Incident) -> list[tuple[str, str]]:
    return [(e.from_state, e.to_state) for e in audit_for(incident) if e.from_state]


@pytest.fixture
def checker(db: Any) -> Any:
    """A verifier's user account (no member record, so it receives no alerts)."""
    return make_staff("checker", "verifier").user


@pytest.fixture
def checker2(db: Any) -> Any:
    return make_staff("checker2", "verifier").user


def set_state(incident: Incident, state: str) -> Incident:
    Incident.objects.filter(pk=incident.pk).update(state=state)
    incident.refresh_from_db()
    return incident


# --- clustering ----------------------------------------------------------------------------


def test_two_reports_in_the_same_cell_make_one_incident(zone):
    first = submit()
    second = submit(activity="patrol")
    assert first.incident_id == second.incident_id
    assert Incident.objects.count() == 1
    assert Incident.objects.get().reports.count() == 2


def test_a_report_in_a_neighbouring_cell_joins_the_incident(zone):
    first = submit()
    second = submit(point_rings_away(BOYLE, 1))
    assert first.incident_id == second.incident_id


def test_a_report_two_cells_away_makes_a_new_incident(zone):
    first = submit()
    second = submit(point_rings_away(BOYLE, 2))
    assert first.incident_id != second.incident_id


def test_a_far_report_makes_a_new_incident(zone):
    first = submit()
    second = submit(FAR)
    assert first.incident_id != second.incident_id
    assert Incident.objects.count() == 2


def test_a_report_after_the_window_makes_a_new_incident(zone, settings):
    settings.CLUSTER_WINDOW_MINUTES = 90
    first = submit()
    Incident.objects.filter(pk=first.incident_id).update(
        last_report_at=timezone.now() - timedelta(minutes=91))
    second = submit()
    assert first.incident_id != second.incident_id


def test_a_report_inside_the_window_joins(zone, settings):
    settings.CLUSTER_WINDOW_MINUTES = 90
    first = submit()
    Incident.objects.filter(pk=first.incident_id).update(
        last_report_at=timezone.now() - timedelta(minutes=89))
    second = submit()
    assert first.incident_id == second.incident_id


def test_the_cluster_window_is_a_setting(zone, settings):
    settings.CLUSTER_WINDOW_MINUTES = 10
    first = submit()
    Incident.objects.filter(pk=first.incident_id).update(
        last_report_at=timezone.now() - timedelta(minutes=11))
    assert submit().incident_id != first.incident_id


def test_each_new_report_keeps_the_incident_open_longer(zone, settings):
    settings.CLUSTER_WINDOW_MINUTES = 90
    first = submit()
    Incident.objects.filter(pk=first.incident_id).update(
        last_report_at=timezone.now() - timedelta(minutes=80))
    submit()
    incident = Incident.objects.get(pk=first.incident_id)
    assert incident.last_report_at > timezone.now() - timedelta(minutes=1)


def test_a_closed_incident_takes_no_new_reports(zone, checker):
    first = submit()
    do_record_verification(first.incident, checker, "not_ice")
    second = submit()
    assert second.incident_id != first.incident_id
    assert second.incident.state == "reported"


def test_a_report_can_name_the_agency_that_was_unknown(zone):
    first = submit(agency="unknown")
    submit(agency="cbp")
    assert Incident.objects.get(pk=first.incident_id).agency == "cbp"


def test_the_earliest_sighting_becomes_the_incident_start(zone):
    first = submit()
    earlier = timezone.now() - timedelta(hours=2)
    submit(observed_at=earlier.isoformat())
    incident = Incident.objects.get(pk=first.incident_id)
    assert abs(incident.first_seen_at - earlier) < timedelta(seconds=1)


def test_the_incident_belongs_to_the_most_specific_zone(zone):
    region = Zone.objects.create(name="East Los Angeles region")
    ZoneCell.objects.bulk_create([ZoneCell(zone=region, cell=c)
                                  for c in geo.disk(geo.cell_for(*BOYLE, 8), 6)])
    zone.parent = region
    zone.save()
    assert submit().incident.zone == zone


def test_a_report_by_neighbourhood_is_placed_at_its_middle(db):
    """Choosing a neighbourhood must not put the incident at whichever cell of it the
    database returns first (an alert centred on the zone's edge misses half of it)."""
    middle = geo.cell_for(*BOYLE, 8)
    edge_first = Zone.objects.create(name="Edge first")
    cells = sorted(geo.rings(middle, 3), key=lambda cd: -cd[1])  # outermost ring first
    ZoneCell.objects.bulk_create([ZoneCell(zone=edge_first, cell=c) for c, _d in cells])
    incident = do_submit_report(build_report_input(
        {"zone": edge_first.pk, "activity": "patrol"}), source="web").incident
    assert geo.parent(incident.cell, 8) == middle
    assert incident.zone == edge_first


def test_a_drill_report_never_joins_a_live_incident(zone, dispatcher):
    live = submit()
    drill = submit(is_drill=True, actor=dispatcher.user, source="phone")
    assert drill.incident_id != live.incident_id
    assert drill.incident.is_drill is True
    assert Incident.objects.get(pk=live.incident_id).reports.count() == 1


def test_a_live_report_never_joins_a_drill_incident(zone, dispatcher):
    drill = submit(is_drill=True, actor=dispatcher.user, source="phone")
    live = submit()
    assert drill.incident_id != live.incident_id
    assert live.incident.is_drill is False


def test_drill_reports_cluster_with_each_other(zone, dispatcher):
    first = submit(is_drill=True, actor=dispatcher.user, source="phone")
    second = submit(is_drill=True, actor=dispatcher.user, source="phone")
    assert first.incident_id == second.incident_id


# --- corroboration -------------------------------------------------------------------------


def test_the_same_contact_counts_once(zone):
    first = submit(contact="+1 213 555 0199")
    submit(contact="(213) 555-0199")
    assert corroboration(first.incident) == 1


def test_the_same_email_counts_once_whatever_the_case(zone):
    first = submit(contact="Neighbour@Example.org")
    submit(contact="neighbour@example.org")
    assert corroboration(first.incident) == 1


def spots(n: int) -> list[tuple[float, float]]:
    """n points in distinct resolution-9 cells of the same neighbourhood (one cluster)."""
    return [geo.center(c) for c in geo.children(geo.cell_for(*BOYLE, 8), 9)[:n]]


def test_different_contacts_in_different_cells_count_separately(zone):
    one, two = spots(2)
    first = submit(one, contact="+1 213 555 0199")
    submit(two, contact="+1 213 555 0198")
    assert corroboration(first.incident) == 2


def test_different_contacts_at_the_same_spot_count_once(zone):
    """Independence counts distinct cells too: many phones at one pin may be one sender."""
    first = submit(contact="+1 213 555 0199")
    submit(contact="+1 213 555 0198")
    assert corroboration(first.incident) == 1


def test_anonymous_reports_in_different_cells_count_each(zone):
    first, *_rest = [submit(at) for at in spots(3)]
    assert corroboration(first.incident) == 3


def test_the_same_browser_counts_once(zone):
    browser = Client()
    for at in spots(3):
        assert browser.post("/report/", {"latitude": at[0], "longitude": at[1],
                                         "activity": "arrests"}).status_code == 302
    incident = Incident.objects.get()
    assert incident.reports.count() == 3
    assert corroboration(incident) == 1


def test_two_browsers_on_two_networks_count_twice(zone):
    for at, address in zip(spots(2), ("198.51.100.9", "203.0.113.7"), strict=True):
        Client(REMOTE_ADDR=address).post("/report/", {"latitude": at[0], "longitude": at[1],
                                                      "activity": "arrests"})
    assert corroboration(Incident.objects.get()) == 2


def test_two_browsers_on_the_same_network_count_once(zone):
    """Fresh cookies do not make a client many reporters: its network counts once a day."""
    for at in spots(2):
        Client(REMOTE_ADDR="198.51.100.9").post(
            "/report/", {"latitude": at[0], "longitude": at[1], "activity": "arrests"})
    assert corroboration(Incident.objects.get()) == 1


def test_the_queue_counts_independent_reporters_like_the_incident(zone):
    a, b, c, d = spots(4)
    first = submit(a, contact="+1 213 555 0199")
    submit(b, contact="+1 213 555 0199")
    submit(c)
    submit(d)
    annotated = queries.console_queue(make_staff("everywhere", "dispatcher").user
                                      ).get(pk=first.incident_id)
    assert annotated.report_count == 4
    assert queries.corroborations(annotated) == corroboration(first.incident) == 3


# --- the state machine ---------------------------------------------------------------------


def test_a_new_incident_is_reported_and_audited(zone):
    incident = submit().incident
    assert incident.state == "reported"
    created = audit_for(incident)[0]
    assert created.action == "incident.created"
    assert created.to_state == "reported"
    assert created.actor is None


def test_requesting_verification_moves_to_verifying(zone, dispatcher):
    incident = submit().incident
    do_request_verification(incident, dispatcher.user)
    incident.refresh_from_db()
    assert incident.state == "verifying"
    entry = audit_for(incident)[-1]
    assert (entry.actor, entry.from_state, entry.to_state) == (
        dispatcher.user, "reported", "verifying")


@pytest.mark.parametrize("outcome", ["confirmed", "not_ice", "false_alarm", "unverifiable"])
def test_a_verifier_outcome_moves_verifying_to_that_state(zone, dispatcher, checker, outcome):
    incident = submit().incident
    do_request_verification(incident, dispatcher.user)
    do_record_verification(incident, checker, outcome)
    incident.refresh_from_db()
    assert incident.state == outcome
    entry = [e for e in audit_for(incident) if e.to_state == outcome][0]
    assert entry.actor == checker
    assert entry.from_state == "verifying"


@pytest.mark.parametrize("outcome", ["not_ice", "false_alarm", "unverifiable"])
def test_a_negative_outcome_closes_the_incident(zone, checker, outcome):
    incident = submit().incident
    do_record_verification(incident, checker, outcome)
    incident.refresh_from_db()
    assert incident.closed_at is not None
    assert not incident.alerts.exists()


def test_confirming_records_when(zone, checker):
    incident = submit().incident
    do_record_verification(incident, checker, "confirmed")
    incident.refresh_from_db()
    assert incident.confirmed_at is not None
    assert incident.closed_at is None


def test_resolving_a_confirmed_incident(zone, checker, dispatcher):
    incident = submit().incident
    do_record_verification(incident, checker, "confirmed")
    do_resolve(incident, dispatcher.user)
    incident.refresh_from_db()
    assert incident.state == "resolved"
    assert incident.closed_at is not None
    entry = audit_for(incident)[-1]
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        "incident.resolved", dispatcher.user, "confirmed", "resolved")


def test_a_correction_turns_a_confirmed_incident_into_a_false_alarm(zone, checker, dispatcher):
    incident = submit().incident
    do_record_verification(incident, checker, "confirmed")
    do_send_correction(incident, dispatcher.user)
    incident.refresh_from_db()
    assert incident.state == "false_alarm"
    entry = audit_for(incident)[-1]
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        "incident.corrected", dispatcher.user, "confirmed", "false_alarm")


def test_a_correction_after_resolving(zone, checker, dispatcher):
    incident = submit().incident
    do_record_verification(incident, checker, "confirmed")
    do_resolve(incident, dispatcher.user)
    do_send_correction(incident, dispatcher.user)
    incident.refresh_from_db()
    assert incident.state == "false_alarm"


def test_the_whole_life_of_an_incident_is_in_the_audit_log(zone, dispatcher, checker):
    incident = submit().incident
    do_request_verification(incident, dispatcher.user)
    do_record_verification(incident, checker, "confirmed")
    do_resolve(incident, dispatcher.user)
    assert transitions(incident) == [("reported", "verifying"), ("verifying", "confirmed"),
                                     ("confirmed", "resolved")]
    actors = [e.actor for e in audit_for(incident) if e.from_state]
    assert actors == [dispatcher.user, checker, dispatcher.user]
    assert all(e.at is not None for e in audit_for(incident))


ILLEGAL = [
    ("reported", "resolve"),
    ("verifying", "resolve"),
    ("reported", "correction"),
    ("verifying", "correction"),
    ("not_ice", "correction"),
    ("confirmed", "request"),
    ("resolved", "request"),
    ("confirmed", "record"),
    ("not_ice", "record"),
    ("false_alarm", "record"),
    ("unverifiable", "resolve"),
    ("resolved", "resolve"),
    ("expired", "request"),
    ("expired", "record"),
]


def run_action(name: str, incident: Incident, dispatcher: Any, checker: Any) -> None:
    if name == "resolve":
        do_resolve(incident, dispatcher.user)
    elif name == "correction":
        do_send_correction(incident, dispatcher.user)
    elif name == "request":
        do_request_verification(incident, dispatcher.user)
    else:
        do_record_verification(incident, checker, "confirmed")


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_an_illegal_transition_is_refused_with_a_message(zone, dispatcher, checker, state,
                                                         action):
    incident = set_state(submit().incident, state)
    before = len(audit_for(incident))
    with pytest.raises(TransitionError) as caught:
        run_action(action, incident, dispatcher, checker)
    assert "not possible now" in str(caught.value)
    incident.refresh_from_db()
    assert incident.state == state
    assert len(audit_for(incident)) == before
    assert not incident.alerts.exists()


def test_an_unknown_outcome_is_refused(zone, checker):
    from rapidresponse.lib.errors import InvalidInput

    incident = submit().incident
    with pytest.raises(InvalidInput):
        do_record_verification(incident, checker, "probably")
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_a_transition_keeps_what_a_report_changed_meanwhile(zone, checker, dispatcher):
    """An action holding an old copy of the incident must not undo a report that arrived."""
    incident = submit(agency="unknown").incident
    do_record_verification(incident, checker, "confirmed")
    stale = Incident.objects.get(pk=incident.pk)
    submit(agency="ice", uniform_text="jackets marked ICE")
    do_resolve(stale, dispatcher.user)
    fresh = Incident.objects.get(pk=incident.pk)
    assert fresh.state == "resolved"
    assert fresh.agency == "ice"
    assert fresh.reports.count() == 2


# --- expiry ---------------------------------------------------------------------------------


def test_an_unverified_incident_expires(zone, settings):
    settings.INCIDENT_EXPIRY_MINUTES = 360
    incident = submit().incident
    later = timezone.now() + timedelta(minutes=361)
    assert do_expire_stale(now=later) == 1
    incident.refresh_from_db()
    assert incident.state == "expired"
    assert incident.closed_at is not None
    entry = audit_for(incident)[-1]
    assert (entry.action, entry.actor, entry.from_state, entry.to_state) == (
        "incident.expired", None, "reported", "expired")


def test_an_incident_being_verified_expires_too(zone, settings, dispatcher):
    settings.INCIDENT_EXPIRY_MINUTES = 360
    incident = submit().incident
    do_request_verification(incident, dispatcher.user)
    do_expire_stale(now=timezone.now() + timedelta(minutes=361))
    incident.refresh_from_db()
    assert incident.state == "expired"
    assert transitions(incident)[-1] == ("verifying", "expired")


def test_a_recent_incident_does_not_expire(zone, settings):
    settings.INCIDENT_EXPIRY_MINUTES = 360
    incident = submit().incident
    assert do_expire_stale(now=timezone.now() + timedelta(minutes=359)) == 0
    incident.refresh_from_db()
    assert incident.state == "reported"


def test_a_new_report_postpones_expiry(zone, settings):
    settings.INCIDENT_EXPIRY_MINUTES = 360
    first = submit()
    Incident.objects.filter(pk=first.incident_id).update(
        last_report_at=timezone.now() - timedelta(minutes=80))
    submit()
    assert do_expire_stale(now=timezone.now() + timedelta(minutes=300)) == 0


def test_a_confirmed_incident_never_expires(zone, settings, checker):
    settings.INCIDENT_EXPIRY_MINUTES = 360
    incident = submit().incident
    do_record_verification(incident, checker, "confirmed")
    assert do_expire_stale(now=timezone.now() + timedelta(days=30)) == 0
    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_the_expiry_time_is_a_setting(zone, settings):
    settings.INCIDENT_EXPIRY_MINUTES = 30
    incident = submit().incident
    do_expire_stale(now=timezone.now() + timedelta(minutes=31))
    incident.refresh_from_db()
    assert incident.state == "expired"


def test_expiry_only_touches_stale_incidents(zone, settings):
    settings.INCIDENT_EXPIRY_MINUTES = 360
    old = submit().incident
    Incident.objects.filter(pk=old.pk).update(
        last_report_at=timezone.now() - timedelta(minutes=400))
    new = submit(FAR).incident
    assert do_expire_stale(now=timezone.now()) == 1
    assert Incident.objects.get(pk=old.pk).state == "expired"
    assert Incident.objects.get(pk=new.pk).state == "reported"
