"""The switchboard: the voice hotline (TwiML for Twilio Voice, signed webhooks, voicemails a
dispatcher files or dismisses, recordings played through a staff-only view and deleted at
Twilio), and routing of new work to the dispatchers on shift with escalation."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.utils import timezone

from rapidresponse.accounts.models import Role
from rapidresponse.channels.sms.models import SmsThread, ThreadState
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Message
from rapidresponse.incidents.models import Report, Source
from rapidresponse.jobs.retention import enforce_retention
from rapidresponse.members.contacts import reporter_index_for
from rapidresponse.switchboard.models import (
    Offer,
    OfferKind,
    OfferStage,
    Voicemail,
    VoicemailStatus,
)
from rapidresponse.switchboard.routing import do_escalate, offer_thread
from tests.conftest import BOYLE, make_staff, signed_in_client
from tests.responders_support import responder, shift
from tests.stubs.twilio_stub import PUBLIC_URL, serve_for, signature
from tests.zones_support import report, two_zones

pytestmark = pytest.mark.django_db

ACCOUNT = "AC" + "1" * 32
TOKEN = "voice-test-auth-token"
CALLER = "+12135550177"
RECORDING_SID = "RE" + "ab" * 16
ANA, BEN, CARLA, DIEGO = "+13235550161", "+13235550162", "+13235550163", "+13235550164"


# --- a fake of Twilio's Recordings API, at the HTTP level -----------------------------------


class Recordings(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.deleted: list[str] = []
        self.fetched: list[str] = []
        self.audio = b"ID3-fake-mp3-bytes"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Recordings

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _answer(self, status: int, body: bytes = b"", kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        prefix = f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/"
        if not self._authorised():
            return self._answer(401, b'{"code": 20003}')
        if self.path.startswith(prefix) and self.path.endswith(".mp3"):
            sid = self.path[len(prefix):-4]
            if sid in self.server.deleted:
                return self._answer(404, b'{"code": 20404}')
            self.server.fetched.append(sid)
            return self._answer(200, self.server.audio, "audio/mpeg")
        return self._answer(404, b'{"code": 20404}')

    def do_DELETE(self) -> None:  # noqa: N802
        prefix = f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/"
        if not self._authorised():
            return self._answer(401, b'{"code": 20003}')
        if self.path.startswith(prefix) and self.path.endswith(".json"):
            self.server.deleted.append(self.path[len(prefix):-5])
            return self._answer(204)
        return self._answer(404, b'{"code": 20404}')


@pytest.fixture
def twilio_voice(settings: Any) -> Iterator[Recordings]:
    server = Recordings()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_API_BASE = server.base_url
    settings.PUBLIC_URL = PUBLIC_URL
    settings.HOTLINE_NUMBER = "+12135550100"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def twilio(settings: Any) -> Any:
    yield from serve_for(settings)


def hook(client: Any, path: str, params: dict[str, str], *, signed: bool = True,
         token: str = TOKEN) -> Any:
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature(PUBLIC_URL + path, params, token)} \
        if signed else {}
    return client.post(path, urlencode(params),
                       content_type="application/x-www-form-urlencoded", **headers)


def call_params(**extra: str) -> dict[str, str]:
    return {"CallSid": "CA" + secrets.token_hex(16), "From": CALLER, "To": "+12135550100",
            "AccountSid": ACCOUNT, "CallStatus": "ringing", **extra}


def twiml(response: Any) -> ElementTree.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    return root


def says(root: ElementTree.Element) -> dict[str, str]:
    return {s.get("language", ""): s.text or "" for s in root.findall("Say")}


def dialled(root: ElementTree.Element) -> list[str]:
    return [n.text or "" for n in root.findall("Dial/Number")]


def dispatcher(name: str, phone: str, zone: Any) -> Any:
    return responder(name, ("dispatcher",), role=Role.DISPATCHER, phone=phone, zones=[zone])


@pytest.fixture
def desk(db: Any) -> dict[str, Any]:
    """Ana is on shift for Boyle Heights with Carla as her backup; Ben for Van Nuys, with no
    backup; Diego is a dispatcher with no shift."""
    zones = two_zones()
    ana = dispatcher("ana", ANA, zones.boyle)
    ben = dispatcher("ben", BEN, zones.van_nuys)
    carla = dispatcher("carla", CARLA, zones.boyle)
    diego = dispatcher("diego", DIEGO, zones.boyle)
    shift(zones.boyle, "dispatcher", ana, carla)
    shift(zones.van_nuys, "dispatcher", ben)
    return {"zones": zones, "ana": ana, "ben": ben, "carla": carla, "diego": diego}


# --- the call ---------------------------------------------------------------------------------


def test_a_call_is_greeted_in_both_languages_and_rings_every_dispatcher_on_shift(
        client, twilio_voice, desk):
    root = twiml(hook(client, "/hooks/twilio/voice", call_params()))
    greeting = says(root)
    assert "rapid response hotline" in greeting["en-US"]
    assert "línea" in greeting["es-MX"]
    assert [e.tag for e in root][:3] == ["Say", "Say", "Dial"]
    assert sorted(dialled(root)) == [ANA, BEN]  # the primaries, at once; not the backup
    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("timeout") == "20" and dial.get("callerId") == "+12135550100"
    assert dial.get("action") == PUBLIC_URL + "/hooks/twilio/voice/next?stage=backup"


def test_with_nobody_on_shift_the_caller_goes_straight_to_voicemail(client, twilio_voice,
                                                                    settings):
    settings.VOICE_MESSAGE_SECONDS = 90
    root = twiml(hook(client, "/hooks/twilio/voice", call_params()))
    assert root.find("Dial") is None
    assert set(says(root)) == {"en-US", "es-MX"}
    assert "After the tone" in says(root)["en-US"]
    record = root.find("Record")
    assert record is not None and record.get("maxLength") == "90"
    assert record.get("action") == PUBLIC_URL + "/hooks/twilio/voice/recorded"


def test_a_call_that_was_answered_ends_there(client, twilio_voice, desk):
    root = twiml(hook(client, "/hooks/twilio/voice/next?stage=backup",
                      call_params(DialCallStatus="completed")))
    assert [e.tag for e in root] == ["Hangup"]


def test_no_answer_rings_the_backups_then_takes_a_message(client, twilio_voice, desk):
    root = twiml(hook(client, "/hooks/twilio/voice/next?stage=backup",
                      call_params(DialCallStatus="no-answer")))
    assert dialled(root) == [CARLA]
    dial = root.find("Dial")
    assert dial is not None
    assert dial.get("action") == PUBLIC_URL + "/hooks/twilio/voice/next?stage=voicemail"
    root = twiml(hook(client, "/hooks/twilio/voice/next?stage=voicemail",
                      call_params(DialCallStatus="busy")))
    assert root.find("Dial") is None and root.find("Record") is not None


def test_no_backup_on_shift_takes_a_message_at_once(client, twilio_voice, desk):
    desk["carla"].user.is_active = False
    desk["carla"].user.save()
    root = twiml(hook(client, "/hooks/twilio/voice/next?stage=backup",
                      call_params(DialCallStatus="no-answer")))
    assert root.find("Dial") is None and root.find("Record") is not None


def test_the_message_left_is_stored_encrypted_and_the_caller_thanked(client, twilio_voice):
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING_SID}"
    params = call_params(RecordingUrl=url, RecordingSid=RECORDING_SID, RecordingDuration="42")
    root = twiml(hook(client, "/hooks/twilio/voice/recorded", params))
    assert set(says(root)) == {"en-US", "es-MX"} and "Thank you" in says(root)["en-US"]
    assert root[-1].tag == "Hangup"
    hook(client, "/hooks/twilio/voice/recorded", params)  # Twilio retries: stored once
    voicemail = Voicemail.objects.get()
    assert voicemail.duration == 42 and voicemail.status == VoicemailStatus.WAITING
    assert voicemail.caller == CALLER and voicemail.recording_url == url
    assert voicemail.caller_index == reporter_index_for("sms", CALLER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT caller_encrypted, recording_url_encrypted, caller_index "
                       "FROM switchboard_voicemail")
        raw = " ".join(cursor.fetchone())
    assert CALLER not in raw and "2135550177" not in raw and RECORDING_SID not in raw


def test_a_link_that_is_no_twilio_recording_is_not_stored(client, twilio_voice):
    params = call_params(RecordingUrl="http://127.0.0.1:8000/admin/", RecordingDuration="3")
    assert twiml(hook(client, "/hooks/twilio/voice/recorded", params)) is not None
    assert not Voicemail.objects.exists()


@pytest.mark.parametrize("path", ["/hooks/twilio/voice", "/hooks/twilio/voice/next?stage=backup",
                                  "/hooks/twilio/voice/recorded"])
def test_unsigned_or_forged_requests_are_refused(client, twilio_voice, path):
    params = call_params(RecordingUrl=f"https://api.twilio.com/x/Recordings/{RECORDING_SID}")
    assert hook(client, path, params, signed=False).status_code == 403
    assert hook(client, path, params, token="not-the-token").status_code == 403
    assert not Voicemail.objects.exists()


# --- the voicemail in the console --------------------------------------------------------------


def left_message(client: Any) -> Voicemail:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING_SID}"
    hook(client, "/hooks/twilio/voice/recorded",
         call_params(RecordingUrl=url, RecordingSid=RECORDING_SID, RecordingDuration="42"))
    return Voicemail.objects.get()


def test_dispatchers_on_shift_and_network_wide_staff_hear_voicemails_others_do_not(
        client, twilio_voice, desk):
    voicemail = left_message(client)
    page = f"/console/voicemails/{voicemail.pk}/"
    on_shift = signed_in_client(desk["ana"].user)
    console = on_shift.get("/console/").content.decode()
    assert "Voicemails waiting" in console and page in console and "***0177" in console
    assert on_shift.get(page).status_code == 200
    network = signed_in_client(make_staff("network", Role.COORDINATOR).user)  # network-wide
    assert network.get(page).status_code == 200
    off_shift = signed_in_client(desk["diego"].user)
    assert "Voicemails waiting" not in off_shift.get("/console/").content.decode()
    assert off_shift.get(page).status_code == 404
    assert off_shift.get(page + "recording").status_code == 404
    verifier = signed_in_client(make_staff("vera", Role.VERIFIER).user)
    assert verifier.get(page).status_code == 403


def test_the_recording_is_played_through_the_server_with_twilios_credentials(
        client, twilio_voice, desk):
    voicemail = left_message(client)
    response = signed_in_client(desk["ana"].user).get(
        f"/console/voicemails/{voicemail.pk}/recording")
    assert response.status_code == 200 and response["Content-Type"] == "audio/mpeg"
    assert response.content == twilio_voice.audio and twilio_voice.fetched == [RECORDING_SID]
    assert "no-store" in response["Cache-Control"]


def test_filing_a_voicemail_makes_a_phone_report_and_deletes_the_recording(
        client, twilio_voice, desk, django_capture_on_commit_callbacks):
    voicemail = left_message(client)
    ana = signed_in_client(desk["ana"].user)
    form = ana.get(f"/console/voicemails/{voicemail.pk}/").content.decode()
    assert "File as report" in form and f'value="{CALLER}"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = ana.post(f"/console/voicemails/{voicemail.pk}/file/", {
            "zone": desk["zones"].boyle.pk, "location_text": "Soto and 1st",
            "activity": "arrests", "agency": "ice", "contact": CALLER})
    assert response.status_code == 302
    voicemail.refresh_from_db()
    assert voicemail.status == VoicemailStatus.FILED and voicemail.handled_by == desk["ana"].user
    report_ = Report.objects.get()
    assert voicemail.report == report_ and report_.source == Source.PHONE
    assert report_.location_text == "Soto and 1st" and report_.contact_encrypted
    assert response["Location"] == f"/console/incidents/{report_.incident_id}/"
    assert twilio_voice.deleted == [RECORDING_SID] and not voicemail.recording_url_encrypted
    assert "Voicemails waiting" in ana.get("/console/").content.decode()
    assert f"/console/voicemails/{voicemail.pk}/" not in ana.get("/console/").content.decode()


def test_a_voicemail_without_a_place_is_not_filed(client, twilio_voice, desk):
    voicemail = left_message(client)
    response = signed_in_client(desk["ana"].user).post(
        f"/console/voicemails/{voicemail.pk}/file/", {"activity": "arrests"})
    assert response.status_code == 400
    voicemail.refresh_from_db()
    assert voicemail.status == VoicemailStatus.WAITING and not Report.objects.exists()


def test_dismissing_a_voicemail_deletes_the_recording_at_twilio(
        client, twilio_voice, desk, django_capture_on_commit_callbacks):
    voicemail = left_message(client)
    ana = signed_in_client(desk["ana"].user)
    with django_capture_on_commit_callbacks(execute=True):
        assert ana.post(f"/console/voicemails/{voicemail.pk}/dismiss/").status_code == 302
    voicemail.refresh_from_db()
    assert voicemail.status == VoicemailStatus.DISMISSED
    assert twilio_voice.deleted == [RECORDING_SID]
    again = ana.post(f"/console/voicemails/{voicemail.pk}/dismiss/")
    assert again.status_code == 302  # already dealt with: said so, nothing changes
    assert ana.get(f"/console/voicemails/{voicemail.pk}/recording").status_code == 404


def test_old_voicemails_and_offers_are_deleted_with_their_recordings(client, twilio_voice,
                                                                      desk):
    voicemail = left_message(client)
    report(BOYLE)
    Offer.objects.create(kind=OfferKind.INCIDENT, object_id=1, stage=OfferStage.PRIMARY,
                         offered_at=timezone.now() - timedelta(days=31))
    done = enforce_retention(timezone.now() + timedelta(days=31))
    assert done["voicemails"] == 1 and done["routing_offers"] == 1
    assert twilio_voice.deleted == [RECORDING_SID]
    assert not Voicemail.objects.filter(pk=voicemail.pk).exists()


# --- routing ------------------------------------------------------------------------------------


def offered(stage: str) -> set[str]:
    offer = Offer.objects.get(stage=stage)
    return {s.user.username for s in offer.offered_to.all()}


def test_a_new_report_is_offered_by_sms_to_the_dispatchers_on_shift_for_its_zone(
        twilio, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = report(BOYLE, notes="two vans, agent named Smith", location_text="Soto")
        report(BOYLE)  # a second report of the same incident: not offered again
    assert offered(OfferStage.PRIMARY) == {"ana"}
    outbox.drain()
    assert [m.to for m in twilio.messages] == [ANA]
    body = twilio.messages[0].body
    assert f"New report #{incident.pk} in Boyle Heights" in body
    assert f"/console/incidents/{incident.pk}/" in body
    assert "Smith" not in body and "Soto" not in body and "vans" not in body


def test_the_offer_is_in_the_dispatchers_language(twilio, desk,
                                                  django_capture_on_commit_callbacks):
    member = desk["ana"].member
    member.language = "es"
    member.save()
    with django_capture_on_commit_callbacks(execute=True):
        incident = report(BOYLE)
    outbox.drain()
    assert f"Nuevo reporte #{incident.pk} en Boyle Heights" in twilio.messages[0].body


def test_a_drill_is_never_offered_on_a_live_channel(twilio, desk,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report(BOYLE, is_drill=True)
    assert offered(OfferStage.PRIMARY) == {"ana"}
    outbox.drain()
    assert twilio.messages == []
    assert Message.objects.get().is_drill


def test_the_first_to_take_it_wins_and_the_others_see_who(
        twilio, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = report(BOYLE)
    offer = Offer.objects.get()
    ana, diego = signed_in_client(desk["ana"].user), signed_in_client(desk["diego"].user)
    page = f"/console/incidents/{incident.pk}/"
    assert "Take it" in diego.get(page).content.decode()
    assert ana.post(f"/console/offers/{offer.pk}/take/").status_code == 302
    assert diego.post(f"/console/offers/{offer.pk}/take/", follow=True).content.decode() \
        .count("Already taken by ana") == 1
    offer.refresh_from_db()
    assert offer.claimed_by == desk["ana"].user
    shown = diego.get(page).content.decode()
    assert "Taken by ana" in shown and "Take it" not in shown
    elsewhere = signed_in_client(dispatcher("vic", "+13235550165", desk["zones"].van_nuys).user)
    assert elsewhere.post(f"/console/offers/{offer.pk}/take/").status_code == 404


def test_an_offer_nobody_takes_escalates_to_the_backup_then_the_coordinators(
        twilio, desk, django_capture_on_commit_callbacks):
    coordinator = make_staff("cora", Role.COORDINATOR, zones=[desk["zones"].region])
    make_staff("nadia", Role.COORDINATOR)  # network-wide: not asked, Cora works the zone
    with django_capture_on_commit_callbacks(execute=True):
        report(BOYLE)
    start = Offer.objects.get().offered_at
    assert do_escalate(start + timedelta(minutes=2)) == 0
    assert do_escalate(start + timedelta(minutes=3, seconds=1)) == 1
    assert offered(OfferStage.BACKUP) == {"carla"}
    assert do_escalate(start + timedelta(minutes=4)) == 0
    assert do_escalate(start + timedelta(minutes=6, seconds=2)) == 1
    assert offered(OfferStage.COORDINATOR) == {coordinator.user.username}
    assert do_escalate(start + timedelta(minutes=30)) == 0  # each stage once
    assert Offer.objects.count() == 3


def test_an_offer_taken_does_not_escalate(twilio, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report(BOYLE)
    offer = Offer.objects.get()
    signed_in_client(desk["ana"].user).post(f"/console/offers/{offer.pk}/take/")
    assert do_escalate(offer.offered_at + timedelta(minutes=10)) == 0
    assert Offer.objects.count() == 1


def test_with_nobody_on_shift_the_coordinators_are_told_at_once(
        twilio, db, django_capture_on_commit_callbacks):
    zones = two_zones()
    make_staff("nadia", Role.COORDINATOR, phone="+13235550166", at=BOYLE)
    with django_capture_on_commit_callbacks(execute=True):
        report(BOYLE)
    assert offered(OfferStage.COORDINATOR) == {"nadia"}
    assert Offer.objects.get(stage=OfferStage.PRIMARY).offered_to.count() == 0
    assert zones.boyle is not None


def test_an_sms_conversation_left_for_a_dispatcher_is_offered_network_wide(twilio, desk):
    thread = SmsThread.objects.create(blind_index="t-1", state=ThreadState.UNPLACED)
    offer_thread(thread)
    assert offered(OfferStage.PRIMARY) == {"ana", "ben"}
    outbox.drain()
    assert all(f"/console/sms/{thread.pk}/" in m.body and "waiting for a dispatcher" in m.body
               for m in twilio.messages)
    console = signed_in_client(desk["diego"].user).get("/console/").content.decode()
    assert "Waiting to be taken" in console and f"SMS conversation #{thread.pk}" in console


def test_a_report_a_dispatcher_typed_in_is_theirs_and_offered_to_nobody(
        twilio, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report(BOYLE, source="phone", actor=desk["diego"].user)
    offer = Offer.objects.get()
    assert offer.claimed_by == desk["diego"].user and offer.offered_to.count() == 0
    outbox.drain()
    assert twilio.messages == []
    assert do_escalate(offer.offered_at + timedelta(minutes=10)) == 0
