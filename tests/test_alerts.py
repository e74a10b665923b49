"""Alerts: composed from structured fields only, sent to exactly the members whose watch
areas meet the alert area, nearest first, in each member's language; all-clears and
corrections reach exactly the same people; drills never reach a live channel."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from rapidresponse.alerts.actions import alert_rings
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.models import ConsoleMessage, Delivery, Message
from rapidresponse.delivery.transport import Outbound, Transport, transport_for
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_resolve,
    do_send_correction,
    do_set_cross_streets,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident
from rapidresponse.lib import geo
from rapidresponse.members.actions import (
    MemberInput,
    build_member_input,
    do_create_member,
    do_opt_out,
    place_from_point,
)
from rapidresponse.members.contacts import normalise
from rapidresponse.members.models import Member
from rapidresponse.membership.actions import do_start_signup
from tests.conftest import BOYLE, FAR, NEAR, make_member, make_staff

RUMOURS = {
    "notes": "Juan Pérez was taken, they are going to Roosevelt High next",
    "location_text": "outside Maria Lopez's house on 4th",
    "uniform_text": "Officer Smith, badge 4471",
    "equipment_text": "plate 8ABC123",
}
RUMOUR_WORDS = ["Juan", "Pérez", "Roosevelt", "Maria", "Lopez", "Smith", "4471", "8ABC123",
                "taken"]


def rings_away(k: int) -> tuple[float, float]:
    """The centre of a resolution-8 cell exactly k rings from Boyle Heights' cell."""
    c8 = geo.cell_for(*BOYLE, 8)
    return geo.center(next(c for c, d in geo.rings(c8, k) if d == k))


_numbers = itertools.cycle(range(200, 999))  # unique within a test


def phone() -> str:
    return f"+1213555{next(_numbers):04d}"


def member(name: str, at: tuple[float, float] = NEAR, *, language: str = "en",
           radius_m: int = 1000, email: bool = False, sms: bool = True) -> Member:
    return make_member(name, language, phone=phone() if sms else "",
                       email=f"{name.lower()}@example.org" if email else "", at=at,
                       radius_m=radius_m)


@pytest.fixture
def checker(db: Any) -> Any:
    """A verifier without a member record, so that only the members we make get alerts."""
    return make_staff("checker", "verifier").user


def report(*, is_drill: bool = False, actor: Any = None, **fields: Any) -> Incident:
    data = {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests",
            "agency": "ice", "is_drill": is_drill, **fields}
    return do_submit_report(build_report_input(data), source="phone" if actor else "web",
                            actor=actor).incident


def confirm(incident: Incident, user: Any) -> Alert:
    do_record_verification(incident, user, "confirmed")
    return Alert.objects.get(incident=incident, kind="alert")


def recipients(alert: Alert) -> set[str]:
    return set(Delivery.objects.filter(message=alert.message)
               .values_list("member__name", flat=True))


def received(m: Member) -> list[ConsoleMessage]:
    return list(ConsoleMessage.objects.filter(member=m).order_by("id"))


# --- what an alert says ----------------------------------------------------------------------


def test_an_alert_says_what_where_when_and_verified(zone, checker):
    alert = confirm(report(), checker)
    incident = alert.incident
    english = alert.message.bodies["en"]["text"]
    assert english.startswith("VERIFIED")
    assert "ICE" in english
    assert zone.name in english
    assert geo_time(incident) in english


def geo_time(incident: Incident) -> str:
    from django.utils import timezone

    return timezone.localtime(incident.first_seen_at).strftime("%H:%M")


def test_an_alert_has_one_rights_line_and_the_hotline(zone, checker, settings):
    alert = confirm(report(), checker)
    for body in alert.message.bodies.values():
        assert settings.HOTLINE_NUMBER in body["text"]
    assert "remain silent" in alert.message.bodies["en"]["text"]
    assert "guardar silencio" in alert.message.bodies["es"]["text"]


def test_an_alert_exists_in_every_language(zone, checker, settings):
    alert = confirm(report(), checker)
    assert set(alert.message.bodies) == {code for code, _name in settings.LANGUAGES}
    assert alert.message.bodies["es"]["text"].startswith("VERIFICADO")


def test_an_alert_uses_the_cross_streets_checked_by_staff(zone, checker, dispatcher):
    incident = report()
    do_set_cross_streets(incident, "Cesar Chavez Ave & Soto St", dispatcher.user)
    alert = confirm(incident, checker)
    assert "Cesar Chavez Ave & Soto St" in alert.message.bodies["en"]["text"]
    assert "Cesar Chavez Ave & Soto St" in alert.message.bodies["es"]["text"]


def test_an_alert_never_carries_a_reporters_words(zone, checker, deliver):
    neighbour = member("Neighbour")
    vecina = member("Vecina", language="es")
    incident = report(**RUMOURS)
    alert = confirm(incident, checker)
    deliver()
    texts = [b["subject"] + " " + b["text"] for b in alert.message.bodies.values()]
    texts += [m.subject + " " + m.text for m in received(neighbour) + received(vecina)]
    assert len(texts) == 4
    for text in texts:
        for word in RUMOUR_WORDS:
            assert word not in text, (word, text)


@pytest.mark.parametrize("follow_up", ["all_clear", "correction"])
def test_follow_ups_never_carry_a_reporters_words(zone, checker, dispatcher, follow_up):
    incident = report(**RUMOURS)
    confirm(incident, checker)
    (do_resolve if follow_up == "all_clear" else do_send_correction)(incident,
                                                                     dispatcher.user)
    message = Alert.objects.get(incident=incident, kind=follow_up).message
    for body in message.bodies.values():
        for word in RUMOUR_WORDS:
            assert word not in body["text"] and word not in body["subject"]


def test_a_reporters_place_description_does_not_become_the_alert_place(zone, checker):
    incident = report(location_text="Juan's taco truck")
    alert = confirm(incident, checker)
    assert alert.area_name == zone.name


# --- who gets it --------------------------------------------------------------------------


def test_a_member_in_range_gets_the_alert(zone, checker, deliver):
    near = member("Near")
    confirm(report(), checker)
    deliver()
    assert len(received(near)) == 1


def test_a_member_far_away_gets_nothing(zone, checker, deliver):
    far = member("Far", FAR)
    confirm(report(), checker)
    deliver()
    assert received(far) == []


def test_recipients_are_exactly_the_members_whose_areas_meet(zone, checker):
    reach = alert_rings()  # the alert area, in rings of cells around the incident's cell
    assert geo.rings_for_radius(200, 8) == 0 and geo.rings_for_radius(1000, 8) == 1
    member("AtTheSpot", BOYLE, radius_m=200)
    member("EdgeOfAlert", rings_away(reach), radius_m=200)
    member("JustBeyond", rings_away(reach + 1), radius_m=200)
    member("WideNeighbour", rings_away(reach + 1), radius_m=1000)
    member("FarSmall", rings_away(reach + 4), radius_m=200)
    member("FarHuge", rings_away(reach + 4), radius_m=5000)
    member("VanNuys", FAR, radius_m=5000)
    alert = confirm(report(), checker)
    assert recipients(alert) == {"AtTheSpot", "EdgeOfAlert", "WideNeighbour", "FarHuge"}
    assert alert.recipient_count == 4


def test_a_large_watch_radius_reaches_an_alert_outside_the_alert_radius(zone, checker,
                                                                       settings):
    home = rings_away(6)
    assert geo.distance_m(geo.cell_for(*home, 8), geo.cell_for(*BOYLE, 8)) > (
        settings.ALERT_RADIUS_M * 2)
    member("Commuter", home, radius_m=5000)
    alert = confirm(report(), checker)
    assert recipients(alert) == {"Commuter"}


def test_a_small_watch_radius_at_the_same_place_is_not_reached(zone, checker):
    member("Homebody", rings_away(6), radius_m=200)
    alert = confirm(report(), checker)
    assert recipients(alert) == set()


def test_the_alert_radius_is_a_setting(zone, checker, settings):
    member("TwoRings", rings_away(2), radius_m=200)
    member("AtTheSpot", BOYLE, radius_m=200)
    settings.ALERT_RADIUS_M = 500
    alert = confirm(report(), checker)
    assert recipients(alert) == {"AtTheSpot"}
    assert alert.radius_m == 500


def test_the_default_alert_radius_is_about_two_kilometres(zone, checker):
    member("TwoRings", rings_away(2), radius_m=200)
    alert = confirm(report(), checker)
    assert alert.radius_m == 2000
    assert recipients(alert) == {"TwoRings"}


def test_three_watch_areas_in_range_mean_one_message_per_channel(zone, checker, deliver):
    places = [place_from_point(*BOYLE, 1000, "home"), place_from_point(*NEAR, 1000, "work"),
              place_from_point(*rings_away(1), 1000, "school")]
    busy = do_create_member(MemberInput(
        name="Busy", language="en",
        contacts={"sms": normalise("sms", phone()), "email": "busy@example.org"},
        channels=["sms", "email"], places=places), source="import")
    alert = confirm(report(), checker)
    rows = list(Delivery.objects.filter(message=alert.message, member=busy))
    assert sorted(d.channel for d in rows) == ["email", "sms"]
    deliver()
    assert sorted(m.channel for m in received(busy)) == ["email", "sms"]
    assert alert.recipient_count == 1


def test_the_nearest_member_is_ranked_first(zone, checker):
    reach = alert_rings()
    # Created far-to-near so that the order of creation cannot be what decides.
    member("Farther", rings_away(reach + 1), radius_m=1000)
    member("Middle", rings_away(1), radius_m=1000)
    member("Nearest", BOYLE, radius_m=1000)
    alert = confirm(report(), checker)
    ranked = list(Delivery.objects.filter(message=alert.message).order_by("rank", "id")
                  .values_list("member__name", "rank"))
    assert ranked == [("Nearest", 0), ("Middle", 1), ("Farther", reach + 1)]


def test_the_nearest_member_is_sent_to_first(zone, checker, deliver):
    member("Farther", rings_away(alert_rings()), radius_m=200)
    member("Nearest", BOYLE, radius_m=200)
    confirm(report(), checker)
    deliver()
    order = list(ConsoleMessage.objects.order_by("id").values_list("member__name", flat=True))
    assert order == ["Nearest", "Farther"]


def test_an_opted_out_member_never_gets_an_alert(zone, checker, deliver):
    gone = member("Gone")
    do_opt_out(gone)
    alert = confirm(report(), checker)
    deliver()
    assert "Gone" not in recipients(alert)
    assert received(gone) == []


def test_a_member_who_has_not_confirmed_never_gets_an_alert(zone, checker, deliver):
    code = do_start_signup(build_member_input(
        name="Pending", language="en", phone=phone(),
        places=[place_from_point(*NEAR, 1000)]))
    pending = code.member
    assert pending.status == "pending"
    alert = confirm(report(), checker)
    deliver()
    assert "Pending" not in recipients(alert)
    assert [m.delivery.message.kind for m in received(pending)] == ["confirmation"]


def test_a_member_with_sms_and_email_gets_both(zone, checker, deliver):
    both = member("Both", email=True)
    alert = confirm(report(), checker)
    assert sorted(Delivery.objects.filter(message=alert.message, member=both)
                  .values_list("channel", flat=True)) == ["email", "sms"]
    deliver()
    got = received(both)
    assert sorted(m.channel for m in got) == ["email", "sms"]
    email = next(m for m in got if m.channel == "email")
    assert email.subject == alert.message.bodies["en"]["subject"]


def test_a_member_gets_only_the_channels_they_chose(zone, checker):
    choosy = do_create_member(build_member_input(
        name="Choosy", language="en", phone=phone(), email="choosy@example.org",
        channels=["email"], places=[place_from_point(*NEAR, 1000)]), source="import")
    alert = confirm(report(), checker)
    assert list(Delivery.objects.filter(message=alert.message, member=choosy)
                .values_list("channel", flat=True)) == ["email"]


def test_each_member_gets_the_alert_in_their_language(zone, checker, deliver):
    maria = member("María", language="es")
    james = member("James", language="en")
    alert = confirm(report(), checker)
    deliver()
    (es,), (en,) = received(maria), received(james)
    assert (es.language, en.language) == ("es", "en")
    assert es.text == alert.message.bodies["es"]["text"]
    assert es.text.startswith("VERIFICADO")
    assert en.text.startswith("VERIFIED")


# --- all-clear and correction ------------------------------------------------------------


@pytest.mark.parametrize("follow_up", ["all_clear", "correction"])
def test_a_follow_up_reaches_exactly_the_original_recipients(zone, checker, dispatcher,
                                                             deliver, follow_up):
    near = member("Near", email=True)
    spot = member("Spot", BOYLE, language="es")
    member("Far", FAR)
    incident = report()
    alert = confirm(incident, checker)
    latecomer = member("Latecomer", BOYLE)  # joined in range after the alert
    (do_resolve if follow_up == "all_clear" else do_send_correction)(incident,
                                                                     dispatcher.user)
    deliver()
    follow = Alert.objects.get(incident=incident, kind=follow_up)
    assert follow.original == alert
    original_rows = set(Delivery.objects.filter(message=alert.message)
                        .values_list("member__name", "channel"))
    follow_rows = set(Delivery.objects.filter(message=follow.message)
                      .values_list("member__name", "channel"))
    assert follow_rows == original_rows == {("Near", "sms"), ("Near", "email"),
                                            ("Spot", "sms")}
    assert received(latecomer) == []
    assert len(received(near)) == 4
    assert len(received(spot)) == 2


def test_the_all_clear_is_in_each_members_language(zone, checker, dispatcher, deliver):
    maria = member("María", language="es")
    james = member("James", language="en")
    incident = report()
    confirm(incident, checker)
    do_resolve(incident, dispatcher.user)
    deliver()
    assert received(maria)[-1].text.startswith("ALERTA TERMINADA")
    assert received(james)[-1].text.startswith("ALL CLEAR")


def test_the_correction_is_in_each_members_language(zone, checker, dispatcher, deliver):
    maria = member("María", language="es")
    james = member("James", language="en")
    incident = report()
    confirm(incident, checker)
    do_send_correction(incident, dispatcher.user)
    deliver()
    assert received(maria)[-1].text.startswith("CORRECCIÓN")
    assert "FALSE ALARM" in received(james)[-1].text


def test_a_member_who_left_after_the_alert_gets_no_all_clear(zone, checker, dispatcher,
                                                             deliver):
    leaver = member("Leaver")
    incident = report()
    confirm(incident, checker)
    deliver()
    do_opt_out(leaver)
    do_resolve(incident, dispatcher.user)
    deliver()
    assert len(received(leaver)) == 1


def test_a_member_who_moved_away_still_gets_the_all_clear(zone, checker, dispatcher,
                                                          deliver):
    mover = member("Mover")
    incident = report()
    confirm(incident, checker)
    mover.watch_areas.update(cell=geo.cell_for(*FAR, 8))
    do_resolve(incident, dispatcher.user)
    deliver()
    assert [m.text.split(":")[0] for m in received(mover)] == ["VERIFIED", "ALL CLEAR"]


def test_a_correction_after_the_all_clear_reaches_the_same_people(zone, checker, dispatcher,
                                                                  deliver):
    near = member("Near")
    incident = report()
    confirm(incident, checker)
    do_resolve(incident, dispatcher.user)
    member("Latecomer", BOYLE)
    do_send_correction(incident, dispatcher.user)
    deliver()
    assert len(received(near)) == 3
    correction = Alert.objects.get(incident=incident, kind="correction")
    assert recipients(correction) == {"Near"}


# --- drills --------------------------------------------------------------------------------


class LiveSms(Transport):
    """A stand-in for a paid SMS provider: it says it is live and keeps what it is given."""

    kind = "sms"
    is_live = True
    sent: ClassVar[list[Outbound]] = []

    def send(self, message: Outbound) -> str:
        LiveSms.sent.append(message)
        return f"live-{message.delivery_id}"


@pytest.fixture
def live_sms(settings: Any) -> Iterator[list[Outbound]]:
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "sms": "tests.test_alerts.LiveSms"}
    transport_for.cache_clear()
    LiveSms.sent.clear()
    yield LiveSms.sent
    transport_for.cache_clear()
    LiveSms.sent.clear()


def test_a_live_alert_uses_the_configured_live_backend(zone, checker, deliver, live_sms):
    near = member("Near")
    confirm(report(), checker)
    deliver()
    assert [m.member_id for m in live_sms] == [near.pk]
    assert received(near) == []


def test_a_drill_never_reaches_a_live_backend(zone, checker, dispatcher, deliver, live_sms):
    near = member("Near")
    incident = report(is_drill=True, actor=dispatcher.user)
    confirm(incident, checker)
    do_resolve(incident, dispatcher.user)
    deliver()
    assert live_sms == []
    got = received(near)
    assert len(got) == 2
    assert all(m.is_drill for m in got)
    assert Delivery.objects.filter(member=near, status="sent").count() == 2


def test_a_drill_dispatch_request_never_reaches_a_live_backend(zone, dispatcher, verifier,
                                                                deliver, live_sms):
    from rapidresponse.incidents.actions import do_request_verification

    incident = report(is_drill=True, actor=dispatcher.user)
    do_request_verification(incident, dispatcher.user)
    deliver()
    assert live_sms == []
    assert received(verifier.staff.member)[0].is_drill


def test_drill_messages_are_marked_as_drills(zone, checker, dispatcher, deliver):
    maria = member("María", language="es")
    james = member("James", language="en")
    incident = report(is_drill=True, actor=dispatcher.user)
    alert = confirm(incident, checker)
    deliver()
    assert alert.is_drill and alert.message.is_drill
    assert received(james)[0].text.startswith("[DRILL - EXERCISE ONLY] VERIFIED")
    assert received(maria)[0].text.startswith("[SIMULACRO")
    assert received(james)[0].is_drill


def test_a_live_alert_is_not_marked_as_a_drill(zone, checker, deliver):
    near = member("Near")
    alert = confirm(report(), checker)
    deliver()
    assert not alert.is_drill
    assert not received(near)[0].is_drill
    assert "DRILL" not in received(near)[0].text


def test_confirming_sends_one_alert_message(zone, checker):
    member("Near")
    incident = report()
    confirm(incident, checker)
    assert Message.objects.filter(kind="alert").count() == 1
    assert Alert.objects.filter(incident=incident).count() == 1
