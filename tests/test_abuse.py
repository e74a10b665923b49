"""Abuse controls: code sends limited per number, per address (an IPv6 client by its /64) and
network-wide per hour; phone numbers of PHONE_COUNTRIES only; independent reporters told
apart by phone, network and cell; and the surge breaker, which holds a flood of reports for
review instead of refusing it or alerting on it."""

from __future__ import annotations

import html
import logging
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from rapidresponse.alerts.models import Alert
from rapidresponse.channels.sms import inbound
from rapidresponse.channels.sms.models import SmsThread
from rapidresponse.codes.actions import do_issue_code
from rapidresponse.codes.destinations import Destination
from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery.models import Delivery, Message
from rapidresponse.incidents import periodic, surge
from rapidresponse.incidents.actions import (
    build_report_input,
    corroboration,
    do_record_verification,
    do_request_verification,
    do_submit_report,
)
from rapidresponse.incidents.models import Incident, Report, Surge, VerificationRequest
from rapidresponse.lib import crypto, geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.actions import build_member_input, signal_number_for
from rapidresponse.members.models import Member
from rapidresponse.membership.signin import SIGN_IN
from tests.conftest import BOYLE, FAR, make_member, make_staff

pytestmark = pytest.mark.usefixtures("inbox")

UK = "+44 20 7946 0958"
MX = "+52 55 1234 5678"
REFUSED = "We cannot send messages to phone numbers in that country."


def text_of(response: Any) -> str:
    return html.unescape(response.content.decode())


def join_form(phone: str, **extra: Any) -> dict[str, Any]:
    return {"name": "Ana", "language": "en", "phone": phone, "channels": ["sms"],
            "label_1": "home", "latitude_1": str(BOYLE[0]), "longitude_1": str(BOYLE[1]),
            "radius_1": "1000", "consent": "yes", **extra}


def same_page(response: Any, typed: str) -> str:
    """The page without what differs from one visitor to the next (the CSRF token, and the
    number they typed)."""
    return re.sub(r'value="[A-Za-z0-9]{64}"', "", text_of(response).replace(typed, ""))


def codes_sent() -> int:
    return Message.objects.filter(kind="confirmation").count()


def in_one_64(i: int) -> str:
    return f"2001:db8:aa:bb:{i:x}::{i + 1:x}"


# --- codes per destination and per address ------------------------------------------------


@pytest.mark.parametrize(("path", "field"), [("/join/", None), ("/leave/", "contact"),
                                             ("/me/", "contact")])
def test_five_ipv6_addresses_in_one_64_share_one_limit(db, path, field):
    """Ten requests a 10 minutes per address: an IPv6 client that changes its address inside
    its /64 for every request is still one client; another /64 is not held back."""
    answers = []
    for i in range(11):
        number = f"+1213555{1000 + i:04d}"
        data = join_form(number) if field is None else {field: number}
        answers.append(Client(REMOTE_ADDR=in_one_64(i % 5)).post(path, data).status_code)
    assert 429 not in answers[:10]
    assert answers[10] == 429
    other = Client(REMOTE_ADDR="2001:db8:aa:cc::1").post(
        path, join_form("+12135552000") if field is None else {field: "+12135552000"})
    assert other.status_code != 429


def test_sign_up_sign_in_and_leave_share_the_limit_of_one_number(db):
    """Five codes an hour to one phone, whatever asked for them and from wherever."""
    member = make_member("Ana", "en", phone="+12135550123")
    for i, (path, data) in enumerate([("/me/", {"contact": "+12135550123"})] * 3
                                     + [("/leave/", {"contact": "+12135550123"})] * 3):
        response = Client(REMOTE_ADDR=f"198.51.100.{i + 1}").post(path, data)
        assert response.status_code == 200
    assert Message.objects.filter(kind="confirmation",
                                  deliveries__member=member).count() == 5
    assert OneTimeCode.objects.filter(member=member, throttled=True).count() == 1


# --- phone countries ----------------------------------------------------------------------


def test_a_foreign_number_cannot_sign_up(db):
    response = Client().post("/join/", join_form(UK))
    assert response.status_code == 400
    assert REFUSED in text_of(response)
    assert not Member.objects.exists() and codes_sent() == 0


def test_a_foreign_number_is_refused_in_spanish(db):
    response = Client().post("/join/", join_form(UK, language="es"), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "No podemos enviar mensajes a números de teléfono de ese país." in text_of(response)
    assert REFUSED not in text_of(response)


def test_the_allowed_countries_are_configurable(db, settings):
    settings.PHONE_COUNTRIES = ["US", "MX"]
    response = Client().post("/join/", join_form(MX))
    assert response.status_code == 302
    assert codes_sent() == 1


def test_imports_and_the_api_refuse_a_foreign_number(db):
    with pytest.raises(InvalidInput) as refused:
        build_member_input(name="Ana", phone=UK, places=[])
    assert REFUSED in refused.value.errors["phone"]


def test_a_foreign_signal_number_is_refused_on_the_settings_page(db):
    member = make_member("Ana", "en", phone="+12135550123")
    with pytest.raises(ValidationError, match=REFUSED):
        signal_number_for(member, UK)


def test_create_staff_refuses_a_foreign_phone(db):
    with pytest.raises(CommandError, match=REFUSED):
        call_command("create_staff", "abroad", "--role", "verifier", "--password",
                     "long-enough-1", "--phone", UK, "--latitude", "34.03", "--longitude",
                     "-118.2")


def test_a_foreign_callback_number_on_a_report_is_refused_with_a_message(zone):
    with pytest.raises(InvalidInput) as refused:
        build_report_input({"latitude": BOYLE[0], "longitude": BOYLE[1],
                            "activity": "arrests", "contact": UK})
    assert REFUSED in refused.value.errors["contact"]


def test_a_text_from_abroad_is_taken_but_not_answered(zone):
    reply = inbound.receive("SM-abroad-1", "+442079460958", "ICE agents outside the school")
    assert reply == ""
    assert SmsThread.objects.count() == 1
    assert inbound.receive("SM-home-1", "+12135550177", "ICE agents outside the school")


def test_no_code_goes_to_a_country_taken_off_the_list(db, settings):
    """A member who joined before their country was taken off the list gets no more codes."""
    member = make_member("Ana", "en", phone="+12135550123")
    settings.PHONE_COUNTRIES = ["MX"]
    contact = member.contacts.get(kind="sms")
    code = do_issue_code(SIGN_IN, Destination.contact_point(contact))
    assert code.throttled and codes_sent() == 0
    response = Client().post("/me/", {"contact": "+12135550123"})
    assert response.status_code == 400 and REFUSED in text_of(response)


# --- the hourly budget of code SMS --------------------------------------------------------


def test_over_the_hourly_budget_codes_are_not_sent_and_the_page_answers_the_same(
        db, settings, caplog):
    settings.CODE_SMS_PER_HOUR = 2
    caplog.set_level(logging.WARNING)
    phones = [f"+1213555{2100 + i:04d}" for i in range(3)]
    for phone in phones:
        make_member("M", "en", phone=phone)
    pages = [Client(REMOTE_ADDR=f"198.51.100.{i + 1}").post("/me/", {"contact": phone})
             for i, phone in enumerate(phones)]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert same_page(pages[2], phones[2]) == same_page(pages[0], phones[0])
    assert codes_sent() == 2
    assert "CODE_SMS_PER_HOUR" in caplog.text
    assert not any(p[-4:] in caplog.text for p in phones)


def test_the_console_says_when_the_code_budget_is_spent(dispatcher, settings):
    settings.CODE_SMS_PER_HOUR = 0
    page = dispatcher.client.get("/console/").content.decode()
    assert 'id="code-budget"' in page


def test_email_codes_do_not_count_against_the_sms_budget(db, settings):
    settings.CODE_SMS_PER_HOUR = 0
    make_member("Ana", "en", email="ana@example.org")
    Client().post("/me/", {"contact": "ana@example.org"})
    assert codes_sent() == 1


# --- independent reporters ----------------------------------------------------------------


def spots(n: int, around: tuple[float, float] = BOYLE) -> list[tuple[float, float]]:
    """n points in distinct resolution-9 cells of one resolution-8 cell (one cluster)."""
    return [geo.center(c) for c in geo.children(geo.cell_for(*around, 8), 9)[:n]]


def test_thirteen_anonymous_reports_from_one_client_count_as_one(zone):
    for at in spots(7) + spots(6):
        # A fresh browser every time (no cookie), the same address.
        Client(REMOTE_ADDR="203.0.113.50").post(
            "/report/", {"latitude": at[0], "longitude": at[1], "activity": "arrests"})
    incident = Incident.objects.get()
    assert incident.reports.count() == 13
    assert corroboration(incident) == 1


def test_one_ipv6_64_is_one_reporter_and_another_network_is_another(zone):
    a, b, c = spots(3)
    for i, at in enumerate((a, b)):
        Client(REMOTE_ADDR=in_one_64(i)).post(
            "/report/", {"latitude": at[0], "longitude": at[1], "activity": "arrests"})
    incident = Incident.objects.get()
    assert corroboration(incident) == 1
    Client(REMOTE_ADDR="2001:db8:ff::1").post(
        "/report/", {"latitude": c[0], "longitude": c[1], "activity": "arrests"})
    assert corroboration(incident) == 2


def test_anonymous_api_reports_from_one_network_count_as_one(zone):
    for i, at in enumerate(spots(3)):
        response = Client(REMOTE_ADDR=in_one_64(i)).post(
            "/api/v1/reports", {"latitude": at[0], "longitude": at[1], "activity": "arrests",
                                "agency": "ice"}, content_type="application/json")
        assert response.status_code == 201, response.content
    assert corroboration(Incident.objects.get()) == 1


def test_the_address_is_never_stored_and_its_hash_changes_every_day(zone):
    Client(REMOTE_ADDR="203.0.113.50").post(
        "/report/", {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests"})
    report = Report.objects.get()
    stored = " ".join(str(v) for v in Report.objects.values().get().values())
    assert "203.0.113" not in stored
    today = timezone.localdate()
    assert report.network_key == surge.network_key("203.0.113.0/24", today)
    assert surge.network_key("203.0.113.0/24", today + timedelta(days=1)) != report.network_key
    assert crypto.daily_index("network", "x", date(2026, 1, 1)) != crypto.daily_index(
        "network", "x", date(2026, 1, 2))


def test_the_network_key_is_erased_with_the_report_details(zone):
    Client(REMOTE_ADDR="203.0.113.50").post(
        "/report/", {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests"})
    periodic.report_details(timezone.now() + timedelta(days=31))
    assert Report.objects.get().network_key == ""


# --- the surge breaker --------------------------------------------------------------------


def report_at(at: tuple[float, float], i: int, **extra: Any) -> Report:
    data = build_report_input({"latitude": at[0], "longitude": at[1], "activity": "arrests",
                               "agency": "ice", "contact": f"+1213{5000000 + i:07d}", **extra})
    data.network = f"198.{i // 250}.{i % 250}.0/24"
    return do_submit_report(data, source="web")


@pytest.fixture
def on_call_dispatcher(zone: Any) -> Any:
    return make_staff("night-dispatcher", "dispatcher", on_call=True, at=BOYLE,
                      phone="+13235550160")


def test_a_flood_of_500_reports_is_stored_held_and_shown_to_dispatchers_but_alerts_no_one(
        zone, dispatcher, on_call_dispatcher, settings):
    neighbours = [make_member(f"Neighbour {i}", "es", phone=f"+1213555{3000 + i:04d}",
                              at=BOYLE) for i in range(5)]
    make_staff("verifier-a", "verifier", on_call=True, at=BOYLE, phone="+13235550161")
    cells = spots(49)
    for i in range(500):
        report_at(cells[i % len(cells)], i)
    assert Report.objects.count() == 500
    assert Report.objects.filter(held=True).count() == 500 - settings.SURGE_CELL_REPORTS_PER_10MIN
    assert not Alert.objects.exists()
    assert not VerificationRequest.objects.exists()
    assert not Delivery.objects.filter(member__in=neighbours).exists()
    # One text, once, to the on-call dispatcher of the place.
    notices = Delivery.objects.filter(message__kind="notice")
    assert [d.member_id for d in notices] == [on_call_dispatcher.member_id]
    incident = Incident.objects.get()
    assert incident.held
    page = dispatcher.client.get("/console/").content.decode()
    assert 'id="surge-banner"' in page
    assert f"/console/incidents/{incident.pk}/" in page.split('class="review-queue"')[1]
    assert "HELD: surge" in dispatcher.client.get("/console/queue/").content.decode()
    detail = html.unescape(dispatcher.client.get(f"/console/incidents/{incident.pk}/")
                           .content.decode())
    assert "Held for review: a surge of reports" in detail
    assert 'id="held"' in detail


def test_the_surge_text_to_dispatchers_is_in_their_language(zone, settings):
    settings.SURGE_CELL_REPORTS_PER_10MIN = 2
    staff = make_staff("despachadora", "dispatcher", on_call=True, at=BOYLE,
                       phone="+13235550162")
    assert staff.member is not None
    staff.member.language = "es"
    staff.member.save()
    for i, at in enumerate(spots(4)):
        report_at(at, i)
    notice = Message.objects.get(kind="notice")
    assert notice.bodies["es"]["text"].startswith("OLEADA")
    assert notice.bodies["en"]["text"].startswith("SURGE")


def test_a_held_incident_asks_one_verifier(zone, dispatcher, settings):
    settings.SURGE_CELL_REPORTS_PER_10MIN = 3
    for n in range(3):
        make_staff(f"verifier-{n}", "verifier", on_call=True, at=BOYLE,
                   phone=f"+1323555017{n}")
    for i, at in enumerate(spots(5)):
        report = report_at(at, i)
    assert report.incident.held
    asked = do_request_verification(report.incident, dispatcher.user)
    assert len(asked) == settings.SURGE_VERIFIERS_PER_REQUEST == 1


def test_reports_under_the_threshold_are_not_held(zone, settings):
    for i, at in enumerate(spots(settings.SURGE_CELL_REPORTS_PER_10MIN)):
        report_at(at, i)
    assert not Report.objects.filter(held=True).exists()
    assert not Incident.objects.get().held
    assert not Surge.objects.exists()


def test_a_place_that_is_always_busy_needs_more_to_surge(zone, settings):
    settings.SURGE_CELL_REPORTS_PER_10MIN = 3
    settings.SURGE_BASELINE_MULTIPLE = 1000
    for i, at in enumerate(spots(30)):
        report_at(at, i)
    # Those thirty reports were the last week's usual traffic, not the last 10 minutes'.
    Report.objects.update(created_at=timezone.now() - timedelta(days=2))
    Surge.objects.all().delete()
    Report.objects.update(held=False)
    for i, at in enumerate(spots(5)):
        assert not report_at(at, 100 + i).held


def test_a_surge_elsewhere_does_not_hold_this_place(zone, settings):
    settings.SURGE_CELL_REPORTS_PER_10MIN = 3
    for i, at in enumerate(spots(5)):
        report_at(at, i)
    assert not report_at(FAR, 99).held


def test_a_network_wide_surge_holds_reports_everywhere(zone, settings):
    settings.SURGE_NETWORK_REPORTS_PER_10MIN = 5
    base = geo.cell_for(*BOYLE, 8)
    places = [geo.center(c) for c, d in geo.rings(base, 12) if d in (0, 4, 8, 12)][:7]
    held = [report_at(at, i).held for i, at in enumerate(places)]
    assert held == [False] * 5 + [True] * 2
    assert Surge.objects.filter(cell__isnull=True).count() == 1


def test_a_surge_ends_after_the_hold_time(zone, settings):
    settings.SURGE_CELL_REPORTS_PER_10MIN = 3
    for i, at in enumerate(spots(5)):
        report_at(at, i)
    later = timezone.now() - timedelta(minutes=settings.SURGE_HOLD_MINUTES + 11)
    Report.objects.update(created_at=later)
    Surge.objects.update(last_over_at=later)
    assert not report_at(spots(1)[0], 50).held


def test_a_verifier_who_confirms_a_held_incident_alerts_and_it_leaves_the_review_queue(
        zone, dispatcher, settings):
    settings.SURGE_CELL_REPORTS_PER_10MIN = 2
    neighbour = make_member("Vecina", "es", phone="+12135553100", at=BOYLE)
    for i, at in enumerate(spots(4)):
        report = report_at(at, i)
    incident = report.incident
    item = dispatcher.client.get(f"/api/v1/incidents/{incident.pk}", **dispatcher.api()).json()
    assert item["held"] is True
    assert not Delivery.objects.filter(member=neighbour).exists()
    do_record_verification(incident, make_staff("checker", "verifier").user, "confirmed")
    assert Delivery.objects.filter(member=neighbour, message__kind="alert").exists()
    page = dispatcher.client.get("/console/").content.decode()
    assert 'class="review-queue"' not in page
