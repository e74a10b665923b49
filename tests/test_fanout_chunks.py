"""A big alert starts at once: the confirmation writes the nearest recipients and commits;
the worker writes the rest nearest first, one committed chunk at a time. Chunked or not,
the rows are the same; a worker killed mid-chunk resumes where it stopped without writing
anyone twice; an all-clear or correction sent while the fan-out is still under way stops it
and reaches exactly those who got the alert or have it queued, and nobody is alerted after.
(How fast is measured by `make bench`, not here.)"""

from __future__ import annotations

from typing import Any

import pytest

from rapidresponse.alerts import audience, fanout, tasks
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.models import ConsoleMessage, Delivery
from rapidresponse.incidents.actions import do_resolve, do_send_correction
from rapidresponse.jobs.registry import periodic_jobs
from rapidresponse.members.models import Member
from tests.conftest import BOYLE
from tests.test_alerts import checker, confirm, member, report, rings_away

__all__ = ["checker"]


@pytest.fixture
def rings(zone: Any, settings: Any) -> list[Member]:
    """Members from the centre outwards, one or two per ring; small chunks."""
    settings.FANOUT_FIRST_ROWS = 2
    settings.FANOUT_CHUNK_ROWS = 1
    people = [member("Centre", BOYLE, email=True)]
    for k in range(1, audience.alert_rings() + 1):
        people.append(member(f"Ring{k}", rings_away(k), radius_m=200))
    people.append(member("Ring1b", rings_away(1), language="es", radius_m=200))
    return people


def rows(alert: Alert) -> set[tuple[str, str, int]]:
    return set(Delivery.objects.filter(message=alert.message)
               .values_list("member__name", "channel", "rank"))


def in_one_statement(alert: Alert) -> set[tuple[str, str, int]]:
    """The rows a single statement over every distance writes (what the fan-out once was)."""
    Delivery.objects.filter(message=alert.message).delete()
    audience.insert_new_alert(message=alert.message_id, priority=0, now=alert.created_at,
                              alert=alert.pk, rings=alert.rings, lo=0, hi=alert.expand_to)
    return rows(alert)


def test_the_confirmation_writes_the_nearest_and_leaves_the_rest_to_the_worker(rings,
                                                                               checker):
    alert = confirm(report(), checker)
    assert alert.expanding
    assert rows(alert) == {("Centre", "sms", 0), ("Centre", "email", 0)}
    assert alert.recipient_count == 1


def test_the_worker_writes_the_rest_nearest_first_and_the_same_rows_as_one_statement(
        rings, checker):
    alert = confirm(report(), checker)
    written_at: dict[str, int] = {}
    step = 0
    while fanout.expand_step(alert.pk)[0]:
        step += 1
        for name, _channel, _rank in rows(alert):
            written_at.setdefault(name, step)
    alert.refresh_from_db()
    assert not alert.expanding
    chunked = rows(alert)
    assert alert.recipient_count == len(rings)
    assert written_at["Ring1"] <= written_at["Ring2"] <= written_at[f"Ring{alert.rings}"]
    assert chunked == in_one_statement(alert)


def test_a_worker_killed_mid_chunk_resumes_where_it_stopped_and_writes_no_one_twice(
        rings, checker, monkeypatch):
    alert = confirm(report(), checker)
    real = audience.insert_new_alert
    calls = {"n": 0}

    def dies_on_the_second_chunk(**kwargs: Any) -> int:
        written = real(**kwargs)
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # after the rows, before the commit
        return written

    monkeypatch.setattr(audience, "insert_new_alert", dies_on_the_second_chunk)
    with pytest.raises(SystemExit):
        fanout.expand_pending()
    alert.refresh_from_db()
    assert alert.expanding
    after_crash = rows(alert)
    assert {name for name, _c, _r in after_crash} == {"Centre", "Ring1", "Ring1b"}
    monkeypatch.setattr(audience, "insert_new_alert", real)
    fanout.expand_pending()
    alert.refresh_from_db()
    assert not alert.expanding
    resumed = list(Delivery.objects.filter(message=alert.message)
                   .values_list("member_id", "channel"))
    assert len(resumed) == len(set(resumed))  # nobody twice
    assert rows(alert) == in_one_statement(alert)


def test_every_worker_resumes_half_written_fan_outs_on_its_timer(rings, checker):
    alert = confirm(report(), checker)
    job = next(j for j in periodic_jobs() if j.name == "alerts.expand_fan_outs")
    job.run()
    alert.refresh_from_db()
    assert not alert.expanding
    assert alert.recipient_count == len(rings)


def test_a_committed_confirmation_expands_and_sends_to_everyone(rings, checker, deliver,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as on_commit:
        alert = confirm(report(), checker)
    assert tasks._enqueue in on_commit  # the commit starts the expansion task, which runs:
    fanout.expand_pending()
    deliver()
    alert.refresh_from_db()
    assert not alert.expanding
    assert alert.recipient_count == len(rings)
    assert set(ConsoleMessage.objects.values_list("member__name", flat=True)) == {
        m.name for m in rings}


@pytest.mark.parametrize("follow_up", ["all_clear", "correction"])
def test_a_follow_up_during_the_fan_out_stops_it_and_reaches_exactly_the_alerted(
        rings, checker, dispatcher, deliver, follow_up):
    incident = report()
    alert = confirm(incident, checker)
    fanout.expand_step(alert.pk)  # the worker has written one more chunk
    alerted = {(name, channel) for name, channel, _rank in rows(alert)}
    assert {name for name, _c in alerted} == {"Centre", "Ring1", "Ring1b"}
    (do_resolve if follow_up == "all_clear" else do_send_correction)(incident,
                                                                     dispatcher.user)
    assert fanout.expand_pending() == 0  # nobody is alerted after the follow-up
    deliver()
    alert.refresh_from_db()
    follow = Alert.objects.get(incident=incident, kind=follow_up)
    assert not alert.expanding
    assert {(name, channel) for name, channel, _rank in rows(follow)} == alerted
    assert rows(alert) == {row for row in rows(alert) if row[0] in {"Centre", "Ring1",
                                                                    "Ring1b"}}
    assert follow.recipient_count == alert.recipient_count == 3
    farther = {m.name for m in rings} - {"Centre", "Ring1", "Ring1b"}
    assert not ConsoleMessage.objects.filter(member__name__in=farther).exists()
    for name in ("Centre", "Ring1", "Ring1b"):
        got = ConsoleMessage.objects.filter(member__name=name, channel="sms").count()
        assert got == 2  # the alert, then the follow-up
