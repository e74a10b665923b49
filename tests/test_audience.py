"""One audience: what the preview counts before anyone confirms, resolves or corrects is
exactly what the send then writes: the same members, on the same channels, in the same
languages, for alerts and for their all-clears and corrections."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from rapidresponse.alerts.models import Alert
from rapidresponse.alerts.preview import (
    cost_preview,
    sms_recipients_of_follow_up,
    sms_recipients_of_new_alert,
)
from rapidresponse.delivery.models import Delivery
from rapidresponse.incidents.actions import do_resolve, do_send_correction
from rapidresponse.incidents.queries import facts_of
from rapidresponse.members.actions import (
    MemberInput,
    do_create_member,
    do_opt_out,
    place_from_point,
)
from rapidresponse.members.contacts import normalise
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import BOYLE, FAR, NEAR
from tests.test_alerts import checker, confirm, member, phone, report, rings_away

__all__ = ["checker"]


def two_places(name: str, first: tuple[float, float], second: tuple[float, float]) -> Member:
    return do_create_member(MemberInput(
        name=name, language="es", contacts={"sms": normalise("sms", phone())},
        channels=["sms"], places=[place_from_point(*first, 300, "home"),
                                  place_from_point(*second, 300, "work")]), source="import")


@pytest.fixture
def crowd(zone: Any) -> dict[str, Member]:
    """Everyone an audience must tell apart."""
    people = {
        "sms": member("Sms"),
        "both": member("Both", BOYLE, language="es", email=True),
        "email only": member("Mail", email=True, sms=False),
        "chose sms": member("Chose", email=True),  # has email, channel switched off below
        "stopped": member("Stopped", email=True),  # SMS stopped, email still on
        "disabled": member("Bounced", email=True),  # email bounced
        "opted out": member("Gone"),
        "far": member("Far", FAR),
        "wide": member("Wide", rings_away(8), radius_m=5000),  # far, with a wide area
        "two areas": two_places("Twice", rings_away(2), NEAR),
        "other language": member("Other", language="fr"),
    }
    ContactPoint.objects.filter(member=people["chose sms"], kind="email").update(enabled=False)
    ContactPoint.objects.filter(member=people["stopped"], kind="sms").update(
        disabled_at=timezone.now(), disabled_reason="replied STOP by SMS")
    ContactPoint.objects.filter(member=people["disabled"], kind="email").update(
        disabled_at=timezone.now(), disabled_reason="bounced")
    do_opt_out(people["opted out"])
    Member.objects.create(name="Pending", status=Member.Status.PENDING)
    return people


def written(alert: Alert) -> tuple[dict[str, int], dict[str, int], int, int]:
    """What the send wrote: members per channel, SMS members per language, members, rows."""
    rows = Delivery.objects.filter(message=alert.message)
    by_channel: dict[str, int] = {}
    sms: dict[str, int] = {}
    for channel, language in rows.values_list("channel", "member__language"):
        by_channel[channel] = by_channel.get(channel, 0) + 1
        if channel == "sms":
            language = language if language in ("en", "es") else "en"
            sms[language] = sms.get(language, 0) + 1
    return (dict(sorted(by_channel.items())), sms, rows.values("member").distinct().count(),
            rows.count())


def test_the_alert_preview_counts_exactly_the_rows_the_send_writes(crowd, checker):
    incident = report()
    preview = cost_preview(facts_of(incident), "alert")
    sms = sms_recipients_of_new_alert(facts_of(incident))
    alert = confirm(incident, checker)
    by_channel, sms_written, members, rows = written(alert)
    assert preview.by_channel == by_channel
    assert sum(preview.by_channel.values()) == rows
    assert preview.members == members == alert.recipient_count
    assert sms == sms_written
    assert {r.language: r.recipients for r in preview.rows} == {
        "en": sms_written.get("en", 0), "es": sms_written.get("es", 0)}
    names = set(Delivery.objects.filter(message=alert.message)
                .values_list("member__name", "channel"))
    assert names == {("Sms", "sms"), ("Both", "sms"), ("Both", "email"), ("Mail", "email"),
                     ("Chose", "sms"), ("Stopped", "email"), ("Bounced", "sms"),
                     ("Wide", "sms"), ("Twice", "sms"), ("Other", "sms")}


def test_a_member_with_two_areas_is_counted_and_written_once_at_the_nearest(crowd, checker):
    alert = confirm(report(), checker)
    row = Delivery.objects.get(message=alert.message, member=crowd["two areas"])
    near = Delivery.objects.get(message=alert.message, member=crowd["sms"])
    assert row.rank == near.rank


@pytest.mark.parametrize("follow_up", ["all_clear", "correction"])
def test_the_follow_up_preview_counts_exactly_the_rows_the_send_writes(crowd, checker,
                                                                        dispatcher, follow_up):
    incident = report()
    alert = confirm(incident, checker)
    member("Latecomer", BOYLE)  # joined after the alert: not in its audience
    do_opt_out(crowd["sms"])  # left after the alert: gets nothing more
    incident.refresh_from_db()
    preview = cost_preview(facts_of(incident), follow_up)
    sms = sms_recipients_of_follow_up(facts_of(incident))
    (do_resolve if follow_up == "all_clear" else do_send_correction)(incident,
                                                                     dispatcher.user)
    follow = Alert.objects.get(incident=incident, kind=follow_up)
    by_channel, sms_written, members, rows = written(follow)
    assert preview.by_channel == by_channel
    assert sum(preview.by_channel.values()) == rows
    assert preview.members == members == follow.recipient_count == alert.recipient_count - 1
    assert sms == sms_written
    follow_rows = set(Delivery.objects.filter(message=follow.message)
                      .values_list("member_id", "channel"))
    alert_rows = set(Delivery.objects.filter(message=alert.message)
                     .exclude(member=crowd["sms"]).values_list("member_id", "channel"))
    assert follow_rows == alert_rows
