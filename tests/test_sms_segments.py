"""SMS segments, counted as carriers count them, and what the console shows before sending:
segments per language and the estimated cost. Every alert text fits in two segments."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from lxml import html

from rapidresponse.alerts.compose import compose
from rapidresponse.alerts.vocabulary import Agency
from rapidresponse.channels.sms import texts
from rapidresponse.channels.sms.segments import count_segments, format_dollars, sms_text
from rapidresponse.delivery.transport import transport_for
from rapidresponse.incidents.actions import build_report_input, do_submit_report
from rapidresponse.incidents.messages import dispatch_bodies
from rapidresponse.incidents.models import Incident
from rapidresponse.incidents.queries import facts_of
from tests.conftest import BOYLE, make_member

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9"}

# --- counting ----------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2),
                                                  (307, 3), (459, 3), (460, 4)])
def test_gsm7_takes_160_characters_then_153_per_segment(length, segments):
    count = count_segments("a" * length)
    assert (count.encoding, count.segments) == ("GSM-7", segments)


def test_extension_characters_count_double():
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81).segments == 2
    assert count_segments("[]{}").units == 8


def test_an_extension_character_is_never_split_across_segments():
    # 306 septets would fit in two segments, but the € cannot straddle the first boundary.
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_takes_70_characters_then_67_per_segment(length, segments):
    count = count_segments("á" * length)
    assert (count.encoding, count.segments) == ("UCS-2", segments)


def test_an_emoji_takes_two_ucs2_units():
    count = count_segments("🚨" * 35)
    assert (count.encoding, count.units, count.segments) == ("UCS-2", 70, 1)


def test_one_accent_outside_gsm7_makes_the_whole_text_ucs2():
    assert count_segments("a" * 100).segments == 1
    assert count_segments("a" * 99 + "ó").segments == 2


def test_spanish_is_written_in_gsm7_for_sms():
    converted = sms_text("¿Dónde está? Información: niños, “migra” – línea")
    assert converted == "¿Donde esta? Informacion: niños, \"migra\" - linea"
    assert count_segments(converted).encoding == "GSM-7"


def test_a_text_that_cannot_be_gsm7_keeps_its_accents():
    assert sms_text("Alerta 🚨 en Boyle Heights, atención") == \
        "Alerta 🚨 en Boyle Heights, atención"


def test_costs_are_rounded_up_to_the_cent():
    assert format_dollars(0.83) == "$0.01"
    assert format_dollars(166.0) == "$1.66"
    assert format_dollars(1000.4) == "$10.01"


# --- every alert text fits in two segments -----------------------------------------------

AREA = "Cesar E Chavez Ave & N Soto St"  # 30 characters
assert len(AREA) == 30


def _incident(agency: str, drill: bool) -> Incident:
    now = timezone.now()
    return Incident(pk=123456, state="confirmed", is_drill=drill, cell=0, activity="arrests",
                    agency=agency, first_seen_at=now, last_report_at=now, cross_streets=AREA)


@pytest.mark.parametrize("drill", [False, True])
@pytest.mark.parametrize("agency", list(Agency.values))
@pytest.mark.parametrize("kind", ["alert", "all_clear", "correction", "dispatch"])
def test_every_alert_text_fits_in_two_segments_in_every_language(kind, agency, drill, settings):
    settings.HOTLINE_NUMBER = "+12135550100"
    incident = _incident(agency, drill)
    if kind == "dispatch":
        bodies = dispatch_bodies(incident, "https://alerts.example.org/verify/123456/")
    else:
        bodies = compose(kind, facts_of(incident))
    for language, body in bodies.items():
        count = count_segments(sms_text(body["text"]))
        assert count.segments <= 2, (language, count, body["text"])


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", sorted(texts.TEXTS))
def test_every_reply_of_the_hotline_fits_in_two_segments(name, language, settings):
    settings.PUBLIC_URL = "https://alerts.example.org"
    assert count_segments(sms_text(texts.text(name, language))).segments <= 2


# --- before sending ----------------------------------------------------------------------


def _report() -> Incident:
    data = {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests",
            "agency": "ice"}
    return do_submit_report(build_report_input(data), source="web").incident


def _cost_rows(page: bytes, kind: str) -> dict[str, dict[str, str]]:
    tree = html.fromstring(page)
    rows = tree.xpath(f'//section[@id="sms-cost-{kind}"]//tr[@data-language]')
    return {row.get("data-language"): {
        cell.get("class"): cell.text_content().strip() for cell in row.xpath("td[@class]")}
        for row in rows}


def test_before_an_alert_the_incident_page_shows_segments_and_cost_per_language(
        zone, dispatcher, settings):
    settings.SMS_SEGMENT_COST_CENTS = 1.0
    make_member("María", "es", phone="+12135550101")
    make_member("Rosa", "es", phone="+12135550102")
    make_member("James", "en", phone="+12135550103")
    make_member("Mail only", "en", email="mail@example.org")
    incident = _report()
    page = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content
    rows = _cost_rows(page, "alert")
    spanish = compose("alert", facts_of(incident))["es"]["text"]
    es_segments = count_segments(sms_text(spanish)).segments
    assert rows["es"]["recipients"] == "2"
    assert rows["en"]["recipients"] == "1"
    assert rows["es"]["segments"] == str(es_segments)
    assert rows["es"]["cost"] == f"${2 * es_segments / 100:.2f}"


def test_the_estimate_counts_spanish_in_gsm7(zone, dispatcher):
    make_member("María", "es", phone="+12135550101")
    incident = _report()
    page = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content
    assert _cost_rows(page, "alert")["es"]["encoding"].startswith("GSM-7")


def test_after_the_alert_the_page_shows_the_cost_of_the_all_clear(
        zone, dispatcher, verifier, deliver):
    make_member("María", "es", phone="+12135550101")
    incident = _report()
    verifier.client.post(f"/verify/{incident.pk}/", {"outcome": "confirmed", "send": "1"})
    page = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content
    assert _cost_rows(page, "all_clear")["es"]["recipients"] == "1"
    assert _cost_rows(page, "alert") == {}


# --- the channel switched off ------------------------------------------------------------


@pytest.fixture
def twilio_unconfigured(settings: Any) -> Any:
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "sms": settings.CHANNEL_BACKEND_NAMES["sms"]["twilio"]}
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    transport_for.cache_clear()
    yield
    transport_for.cache_clear()


def test_the_console_says_sms_is_off_without_twilio_settings(dispatcher, twilio_unconfigured):
    page = dispatcher.client.get("/console/").content.decode()
    assert "SMS is switched off." in page
    assert "TWILIO_ACCOUNT_SID" in page


def test_the_console_says_so_in_spanish(dispatcher, twilio_unconfigured):
    page = dispatcher.client.get("/console/", **SPANISH).content.decode()
    assert "Los SMS están desactivados." in page


def test_the_incident_page_says_sms_is_off(zone, dispatcher, twilio_unconfigured):
    incident = _report()
    page = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert "SMS is switched off." in page


def test_with_twilio_configured_there_is_no_notice(dispatcher, twilio_unconfigured, settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32
    page = dispatcher.client.get("/console/").content.decode()
    assert "SMS is switched off." not in page
