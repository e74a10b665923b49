"""Reporting by SMS: any other text to the hotline starts a conversation in the sender's
language (where, then what) that puts a report in the dispatcher queue; the dispatcher can
text back from the incident page. Nothing the sender wrote reaches an alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rapidresponse.channels.sms.models import SmsThread
from rapidresponse.incidents.models import Report
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import ContactPoint, Member
from tests.conftest import make_member
from tests.sms_support import text_hotline
from tests.stubs.twilio_stub import serve_for

SENDER = "+12135550177"


@pytest.fixture
def twilio(settings: Any) -> Any:
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "sms": 1000}
    yield from serve_for(settings)


def text(client: Any, body: str, sender: str = SENDER) -> str:
    return text_hotline(client, body, sender)


def report_by_sms(client: Any, *, where: str = "Soto y 1st, Boyle Heights",
                  what: str = "Unos 5 agentes de ICE y 2 camionetas, se llevaron a un señor",
                  first: str = "Hay migra aqui") -> Report:
    text(client, first)
    text(client, where)
    text(client, what)
    report = Report.objects.order_by("-id").first()
    assert report is not None
    return report


def test_a_text_asks_where(client, zone, twilio):
    reply = text(client, "ICE agents outside the school")
    assert "Where is this happening?" in reply


def test_a_spanish_text_is_answered_in_spanish(client, zone, twilio):
    reply = text(client, "Hay agentes de la migra en la esquina")
    assert "Donde esta pasando?" in reply


def test_a_member_is_answered_in_their_language(client, zone, twilio):
    make_member("María", "es", phone=SENDER)
    reply = text(client, "ICE on the corner")
    assert "Donde esta pasando?" in reply


def test_after_where_it_asks_what(client, zone, twilio):
    text(client, "ICE agents outside the school")
    reply = text(client, "1st and Soto, Boyle Heights")
    assert "What did you see?" in reply


def test_the_conversation_puts_a_report_in_the_dispatcher_queue(client, zone, dispatcher,
                                                                 twilio):
    report = report_by_sms(client)
    assert report.source == "sms"
    assert report.incident.zone == zone
    assert report.language == "es"
    assert report.activity == "arrests" and report.agency == "ice" and report.size == 5
    queue = dispatcher.client.get("/console/queue/").content.decode()
    assert f"/console/incidents/{report.incident_id}/" in queue


def test_the_report_keeps_what_the_sender_said_for_the_dispatcher(client, zone, twilio):
    report = report_by_sms(client)
    assert report.location_text == "Soto y 1st, Boyle Heights"
    assert "2 camionetas" in report.notes


def test_the_sender_is_thanked_with_the_hotline(client, zone, twilio, settings):
    text(client, "ICE agents outside the school")
    text(client, "Boyle Heights")
    reply = text(client, "Two vans, four agents")
    assert "Your report is with our dispatchers" in reply
    assert settings.HOTLINE_NUMBER in reply


def test_the_incident_page_shows_the_two_way_thread(client, zone, dispatcher, twilio):
    report = report_by_sms(client)
    page = dispatcher.client.get(f"/console/incidents/{report.incident_id}/").content.decode()
    assert "Hay migra aqui" in page
    assert "¿Qué vio?" in page
    assert "***0177" in page


def test_the_dispatcher_replies_from_the_incident_page(client, zone, dispatcher, twilio, deliver):
    report = report_by_sms(client)
    thread = SmsThread.objects.get()
    incident_page = f"/console/incidents/{report.incident_id}/"
    r = dispatcher.client.post(f"/console/sms/{thread.pk}/reply/",
                               {"text": "¿Siguen ahí? Vamos en camino.", "next": incident_page})
    assert r.status_code == 302 and r["Location"] == incident_page
    deliver()
    [sent] = twilio.messages_to(SENDER)
    assert sent.body == "¿Siguen ahi? Vamos en camino."
    assert "Vamos en camino" in dispatcher.client.get(incident_page).content.decode()


def test_an_empty_reply_is_refused_with_a_message(client, zone, dispatcher, twilio):
    report_by_sms(client)
    thread = SmsThread.objects.get()
    r = dispatcher.client.post(f"/console/sms/{thread.pk}/reply/", {"text": "  "})
    assert r.status_code == 400
    assert "Write a reply first." in r.content.decode()


def test_someone_without_staff_access_cannot_reply(client, zone, verifier, twilio):
    report_by_sms(client)
    thread = SmsThread.objects.get()
    r = verifier.client.post(f"/console/sms/{thread.pk}/reply/", {"text": "hello"})
    assert r.status_code == 403


def test_a_reporter_who_is_not_a_member_never_gets_alerts(
        client, zone, dispatcher, verifier, twilio, deliver):
    report = report_by_sms(client)
    thread = SmsThread.objects.get()
    dispatcher.client.post(f"/console/sms/{thread.pk}/reply/", {"text": "Gracias"})
    deliver()
    verifier.client.post(f"/verify/{report.incident_id}/", {"outcome": "confirmed", "send": "1"})
    deliver()
    assert [m.body for m in twilio.messages_to(SENDER)] == ["Gracias"]
    assert find_contact("sms", SENDER).member.status == Member.Status.PENDING


def test_a_seized_database_cannot_join_a_hotline_thread_or_report_to_a_member(
        client, zone, dispatcher, twilio):
    make_member("Ana", "es", phone=SENDER)
    report = report_by_sms(client)
    thread = SmsThread.objects.get()
    contact = find_contact("sms", SENDER)
    # The thread and the report's reporter are indexed under a key of their own: neither
    # value appears among the members' contact indexes.
    member_indexes = set(ContactPoint.objects.values_list("blind_index", flat=True))
    assert contact.blind_index in member_indexes
    assert thread.blind_index not in member_indexes
    assert report.reporter_key and report.reporter_key not in member_indexes


def test_nothing_the_sender_wrote_reaches_the_alert(client, zone, verifier, twilio, deliver):
    make_member("Ana", "en", phone="+12135550101")
    report = report_by_sms(client, where="Frente a la Panaderia Lupita, Boyle Heights",
                           what="Se llevaron a Don Chuy, 3 agentes")
    verifier.client.post(f"/verify/{report.incident_id}/", {"outcome": "confirmed", "send": "1"})
    deliver()
    [alert] = twilio.messages_to("+12135550101")
    assert "Panaderia" not in alert.body and "Chuy" not in alert.body
    assert "Boyle Heights" in alert.body


def test_a_place_not_found_is_asked_again_with_examples(client, zone, twilio):
    text(client, "ICE agents outside the school")
    reply = text(client, "by the big church")
    assert "We could not find that place" in reply
    assert "Boyle Heights" in reply


def test_a_place_never_found_waits_for_a_dispatcher(client, zone, dispatcher, twilio):
    text(client, "ICE agents outside the school")
    text(client, "by the big church")
    text(client, "next to the market")
    reply = text(client, "3 agents, one van")
    assert "A dispatcher will check where this is" in reply
    assert not Report.objects.exists()
    console = dispatcher.client.get("/console/").content.decode()
    assert "Waiting for a dispatcher to find the place" in console


def test_the_dispatcher_places_and_files_the_waiting_report(client, zone, dispatcher, twilio):
    text(client, "ICE agents outside the school")
    text(client, "by the big church")
    text(client, "next to the market")
    text(client, "3 agents, one van")
    thread = SmsThread.objects.get()
    page = dispatcher.client.get(f"/console/sms/{thread.pk}/").content.decode()
    assert "by the big church; next to the market" in page
    r = dispatcher.client.post(f"/console/sms/{thread.pk}/file/",
                               {"zone": zone.pk, "activity": "patrol", "agency": "unknown"})
    report = Report.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/console/incidents/{report.incident_id}/"
    assert report.source == "sms" and report.activity == "patrol"
    assert report.incident.zone == zone


def test_filing_without_a_place_is_refused_with_a_message(client, zone, dispatcher, twilio):
    for body in ("ICE agents outside the school", "by the church", "the market", "3 agents"):
        text(client, body)
    thread = SmsThread.objects.get()
    r = dispatcher.client.post(f"/console/sms/{thread.pk}/file/",
                               {"zone": "", "activity": "patrol", "agency": "unknown"})
    assert r.status_code == 400
    assert not Report.objects.exists()


def test_an_old_conversation_starts_over(client, zone, twilio):
    text(client, "ICE agents outside the school")
    SmsThread.objects.update(last_inbound_at=timezone.now() - timedelta(hours=3))
    reply = text(client, "ICE again, at the park")
    assert "Where is this happening?" in reply


def test_two_reports_from_one_number_count_as_one_reporter(client, zone, dispatcher, twilio):
    report_by_sms(client)
    report_by_sms(client, first="Todavia estan", what="Siguen ahi")
    incident_id = Report.objects.first().incident_id  # type: ignore[union-attr]
    assert Report.objects.filter(incident_id=incident_id).count() == 2
    page = dispatcher.client.get(f"/console/incidents/{incident_id}/").content.decode()
    assert "1 independent reporter" in page
