"""Who gets what: every URL of the URL map and every endpoint of /api/v1/openapi.json, for
every role, with the status each must answer.

The objects (an incident waiting for verification, a confirmed drill with its alert and a
dead delivery, a member, an SMS conversation) are in Boyle Heights. The personas of the
columns work in Boyle Heights, except the coordinator and dispatcher of Van Nuys (for whom
Boyle Heights's objects do not exist: 404) and the network-wide coordinator. The member
signs in through /me/ with a code; staff sign in with their second factor and use API tokens.

A URL or endpoint without a row here fails `test_every_url_and_endpoint_has_a_row`: a new
page is not let through unlisted. Each request runs in a savepoint that is rolled back, with
the client's cookies and the cache put back, so every row meets the same world.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image

from rapidresponse.accounts.models import Role
from rapidresponse.alerts.models import Alert
from rapidresponse.channels.sms.models import SmsThread, SmsThreadMessage, ThreadState
from rapidresponse.committees.actions import do_create_committee, do_save_plan
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.dispatch.models import Assignment, Dispatch
from rapidresponse.evidence.actions import do_upload
from rapidresponse.incidents.actions import do_record_verification
from rapidresponse.support.actions import do_open_case, do_record_detention
from rapidresponse.support.models import Partner
from rapidresponse.switchboard.models import Offer, OfferKind, OfferStage, Voicemail
from tests.codes_support import current
from tests.conftest import BOYLE, Persona, make_member, make_staff, persona
from tests.responders_support import responder, shift
from tests.zones_support import report as report_at
from tests.zones_support import two_zones

ROLES = ("anonymous", "member", "responder", "verifier", "dispatcher", "coordinator",
         "coordinator_elsewhere", "dispatcher_elsewhere", "network_coordinator")
MEMBER_PHONE = "+12135550101"
NEW_MEMBER = {"name": "Ana", "phone": "+12135550177", "latitude": BOYLE[0],
              "longitude": BOYLE[1], "channels": ["sms"]}
NEW_REPORT = {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests"}


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


PHOTO = _photo()


@dataclass(frozen=True)
class Row:
    key: str  # the URL's name ("namespace:name"), or "METHOD /api/v1/path" from the schema
    method: str
    path: str  # with {incident}, {confirmed}, {alert}, {member}, {delivery}, {thread}, ...
    statuses: tuple[int, ...]  # one per role, in the order of ROLES
    data: dict[str, Any] = field(default_factory=dict)

    def expected(self) -> dict[str, int]:
        assert len(self.statuses) == len(ROLES), self.key
        return dict(zip(ROLES, self.statuses, strict=True))


def page(key: str, method: str, path: str, *statuses: int, **data: Any) -> Row:
    return Row(key, method, path, statuses, data)


def api(method: str, path: str, *statuses: int, url: str = "", **data: Any) -> Row:
    """An endpoint of the schema (`path` as the schema writes it; `url` to fill it in)."""
    return Row(f"{method} /api/v1{path}", method, "/api/v1" + (url or path), statuses, data)


# Columns: anonymous, member (/me/), responder, verifier, dispatcher, coordinator,
# coordinator of Van Nuys, dispatcher of Van Nuys, network-wide coordinator.
PAGES = [
    # The public site: the same for everyone.
    page("home", "GET", "/",                          200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("report", "GET", "/report/",                 200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("report", "POST", "/report/",                400, 400, 400, 400, 400, 400, 400, 400, 400),
    page("report_thanks", "GET", "/report/thanks/",   200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("map", "GET", "/map/",                       200, 200, 200, 200, 200, 200, 200, 200, 200),
    # Tiles are served only with MAP_TILE_UPSTREAM set (tests/test_map_tiles.py); not here.
    page("tile", "GET", "/tiles/3/1/2.png",           404, 404, 404, 404, 404, 404, 404, 404, 404),
    page("rights", "GET", "/rights/",                 200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("join", "GET", "/join/",                     200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("join", "POST", "/join/",                    400, 400, 400, 400, 400, 400, 400, 400, 400),
    page("joined", "GET", "/join/welcome/",           200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("confirm_code", "GET", "/code/nosuchcode/",  404, 404, 404, 404, 404, 404, 404, 404, 404),
    page("confirm_contact", "GET", "/confirm/nosuchlink/",
                                                      404, 404, 404, 404, 404, 404, 404, 404, 404),
    page("leave", "GET", "/leave/",                   200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("leave", "POST", "/leave/",                  400, 400, 400, 400, 400, 400, 400, 400, 400),
    page("leave_confirm", "GET", "/leave/confirm/",   405, 405, 405, 405, 405, 405, 405, 405, 405),
    page("leave_confirm", "POST", "/leave/confirm/",  400, 400, 400, 400, 400, 400, 400, 400, 400),
    page("left", "GET", "/leave/done/",               200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("manifest", "GET", "/manifest.webmanifest",  200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("service_worker", "GET", "/sw.js",           200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("set_language", "POST", "/i18n/setlang/",    302, 302, 302, 302, 302, 302, 302, 302, 302,
         language="es"),
    page("alerts_feed", "GET", "/feeds/alerts.atom",  200, 200, 200, 200, 200, 200, 200, 200, 200),
    # A drill's CAP document: console staff of its zone only.
    page("alert_cap", "GET", "/alerts/{alert}.cap",   404, 404, 404, 404, 200, 200, 404, 404, 200),
    # Twilio's webhooks: only requests Twilio signed.
    page("twilio_sms", "POST", "/hooks/twilio/sms",   403, 403, 403, 403, 403, 403, 403, 403, 403),
    page("twilio_status", "POST", "/hooks/twilio/status",
                                                      403, 403, 403, 403, 403, 403, 403, 403, 403),
    page("voice", "POST", "/hooks/twilio/voice",      403, 403, 403, 403, 403, 403, 403, 403, 403),
    page("voice_next", "POST", "/hooks/twilio/voice/next?stage=backup",
                                                      403, 403, 403, 403, 403, 403, 403, 403, 403),
    page("voice_recorded", "POST", "/hooks/twilio/voice/recorded",
                                                      403, 403, 403, 403, 403, 403, 403, 403, 403),
    # The member's own page: signed in with a code, by the member's cookie.
    page("me", "GET", "/me/",                         200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("me_code", "POST", "/me/code/",              400, 400, 400, 400, 400, 400, 400, 400, 400),
    page("me_save", "POST", "/me/save/",              403, 400, 403, 403, 403, 403, 403, 403, 403),
    page("me_leave", "POST", "/me/leave/",            403, 400, 403, 403, 403, 403, 403, 403, 403),
    page("me_sign_out", "POST", "/me/sign-out/",      302, 302, 302, 302, 302, 302, 302, 302, 302),
    page("me_push_subscribe", "POST", "/me/push/subscribe/",
                                                      403, 400, 403, 403, 403, 403, 403, 403, 403),
    page("me_push_unsubscribe", "POST", "/me/push/unsubscribe/",
                                                      403, 302, 403, 403, 403, 403, 403, 403, 403),
    # Staff sign-in and their own account.
    page("login", "GET", "/login/",                   200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("login", "POST", "/login/",                  400, 400, 400, 400, 400, 400, 400, 400, 400),
    page("second_factor", "GET", "/login/code/",      302, 302, 302, 302, 302, 302, 302, 302, 302),
    page("second_factor_setup", "GET", "/login/set-up/",
                                                      302, 302, 200, 200, 200, 200, 200, 200, 200),
    page("logout", "GET", "/logout/",                 405, 405, 405, 405, 405, 405, 405, 405, 405),
    page("logout", "POST", "/logout/",                302, 302, 302, 302, 302, 302, 302, 302, 302),
    page("account", "GET", "/account/",               302, 302, 200, 200, 200, 200, 200, 200, 200),
    page("recovery_codes", "POST", "/account/recovery-codes/",
                                                      302, 302, 200, 200, 200, 200, 200, 200, 200),
    # The console: dispatchers and coordinators; a verifier is sent to their own page.
    page("console", "GET", "/console/",               302, 302, 403, 302, 200, 200, 200, 200, 200),
    page("console_queue", "GET", "/console/queue/",   302, 302, 403, 403, 200, 200, 200, 200, 200),
    page("phone_report", "GET", "/console/reports/new/",
                                                      302, 302, 403, 403, 200, 200, 200, 200, 200),
    page("phone_report", "POST", "/console/reports/new/",
                                                      302, 302, 403, 403, 400, 400, 400, 400, 400),
    page("incident", "GET", "/console/incidents/{incident}/",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("incident_timeline", "GET", "/console/incidents/{incident}/timeline/",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("incident_action", "POST", "/console/incidents/{incident}/request-verification/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302),
    page("incident_action", "POST", "/console/incidents/{incident}/place/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302,
         cross_streets="Soto St"),
    # Confirming, resolving and correcting show what would be sent first (200).
    page("incident_action", "POST", "/console/incidents/{incident}/outcome/",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200,
         outcome="confirmed"),
    page("incident_action", "POST", "/console/incidents/{incident}/outcome/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302,
         outcome="not_ice"),
    page("incident_action", "POST", "/console/incidents/{confirmed}/resolve/",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("incident_action", "POST", "/console/incidents/{confirmed}/correction/",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("incident_action", "POST", "/console/incidents/{confirmed}/resolve/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302,
         send="1"),
    page("incident_action", "POST", "/console/incidents/{incident}/no-such-action/",
                                                      302, 302, 403, 403, 404, 404, 404, 404, 404),
    page("incident_action", "GET", "/console/incidents/{incident}/resolve/",
                                                      302, 302, 405, 405, 405, 405, 405, 405, 405),
    page("sms_thread", "GET", "/console/sms/{thread}/",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("sms_reply", "POST", "/console/sms/{thread}/reply/",
                                                      302, 302, 403, 403, 400, 400, 404, 404, 400),
    page("sms_file", "POST", "/console/sms/{thread}/file/",
                                                      302, 302, 403, 403, 400, 400, 404, 404, 400),
    page("sms_close", "POST", "/console/sms/{thread}/close/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302),
    page("message_log", "GET", "/console/messages/",  302, 302, 403, 403, 200, 200, 200, 200, 200),
    page("phone", "GET", "/console/phone/{member}/",  302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("dead_letters", "GET", "/console/deliveries/dead/",
                                                      302, 302, 403, 403, 200, 200, 200, 200, 200),
    page("delivery_retry", "POST", "/console/deliveries/{delivery}/retry/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302),
    # The hotline's voicemails have no zone: console staff who are network-wide or on shift
    # as a dispatcher hear them (nobody of the world is on shift: 404 for zoned staff). Its
    # recording was already deleted at Twilio (404 for those who may hear it).
    page("voicemail", "GET", "/console/voicemails/{voicemail}/",
                                                      302, 302, 403, 403, 404, 404, 404, 404, 200),
    page("voicemail_recording", "GET", "/console/voicemails/{voicemail}/recording",
                                                      302, 302, 403, 403, 404, 404, 404, 404, 404),
    page("voicemail_file", "POST", "/console/voicemails/{voicemail}/file/",
                                                      302, 302, 403, 403, 404, 404, 404, 404, 400),
    page("voicemail_dismiss", "POST", "/console/voicemails/{voicemail}/dismiss/",
                                                      302, 302, 403, 403, 404, 404, 404, 404, 302),
    # Taking a new report offered to the dispatchers: as the incident's actions.
    page("offer_take", "POST", "/console/offers/{offer}/take/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302),
    # Coordinators: members of their zones; what the database holds: the whole network's.
    page("members", "GET", "/console/members/",       302, 302, 403, 403, 403, 200, 200, 403, 200),
    page("members", "POST", "/console/members/",      302, 302, 403, 403, 403, 400, 400, 403, 400),
    page("what_we_hold", "GET", "/console/privacy/",  302, 302, 403, 403, 403, 403, 403, 403, 200),
    # Responders and shifts: each staff member's own page; coordinators manage the people
    # and shifts of their zones (another zone's: 404); dispatchers see the week's shifts.
    page("responder_me", "GET", "/responder/",        302, 302, 200, 200, 200, 200, 200, 200, 200),
    page("responder_availability", "POST", "/responder/availability/",
                                                      302, 302, 400, 400, 400, 400, 400, 400, 400),
    page("responder_languages", "POST", "/responder/languages/",
                                                      302, 302, 302, 302, 302, 302, 302, 302, 302),
    page("responder_calendar_new", "POST", "/responder/calendar/new/",
                                                      302, 302, 302, 302, 302, 302, 302, 302, 302),
    page("responder_calendar_revoke", "POST", "/responder/calendar/revoke/",
                                                      302, 302, 302, 302, 302, 302, 302, 302, 302),
    page("shift_feed", "GET", "/shifts/nosuchtoken.ics",
                                                      404, 404, 404, 404, 404, 404, 404, 404, 404),
    page("responders", "GET", "/console/responders/", 302, 302, 403, 403, 403, 200, 200, 403, 200),
    page("responder", "GET", "/console/responders/{responder}/",
                                                      302, 302, 403, 403, 403, 200, 404, 403, 200),
    page("training_add", "POST", "/console/responders/{responder}/trainings/",
                                                      302, 302, 403, 403, 403, 400, 404, 403, 400),
    page("training_remove", "POST", "/console/responders/{responder}/trainings/{training}/remove/",
                                                      302, 302, 403, 403, 403, 302, 404, 403, 302),
    page("shifts", "GET", "/console/shifts/",         302, 302, 403, 403, 200, 200, 200, 200, 200),
    page("shift_gaps", "GET", "/console/shifts/gaps/",
                                                      302, 302, 403, 403, 403, 200, 200, 403, 200),
    page("shift_new", "GET", "/console/shifts/new/",  302, 302, 403, 403, 403, 200, 200, 403, 200),
    page("shift_edit", "GET", "/console/shifts/{schedule}/",
                                                      302, 302, 403, 403, 403, 200, 404, 403, 200),
    page("shift_delete", "POST", "/console/shifts/{schedule}/delete/",
                                                      302, 302, 403, 403, 403, 302, 404, 403, 302),
    page("shift_swap", "POST", "/console/shifts/{schedule}/swap/",
                                                      302, 302, 403, 403, 403, 400, 404, 403, 400),
    # Dispatch: console staff of the incident's zone ask for responders and witnesses; a
    # responder answers only their own requests (someone else's: 404; a dispatcher who sees
    # the dispatch but was not asked: 403).
    page("dispatch_new", "POST", "/console/incidents/{incident}/dispatches/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302,
         skill="legal_observer", count="1"),
    page("witnesses_new", "POST", "/console/incidents/{confirmed}/witnesses/",
                                                      302, 302, 403, 403, 302, 302, 404, 404, 302,
         radius_m="1000", cap="20"),
    page("responder_dispatch", "POST", "/responder/dispatches/{dispatch}/accept/",
                                                      302, 302, 404, 404, 403, 403, 404, 404, 403),
    # Evidence: responders add to the incidents of their zones and see their own uploads'
    # shared copies (the matrix's responder did not upload this one: 404); dispatchers and
    # coordinators of the zone see everything, download originals and the attorney's
    # package; coordinators release it.
    page("evidence_home", "GET", "/evidence/",        302, 302, 200, 403, 200, 200, 200, 200, 200),
    page("evidence_upload", "GET", "/evidence/incidents/{incident}/",
                                                      302, 302, 200, 403, 200, 200, 404, 404, 200),
    page("evidence_upload", "POST", "/evidence/incidents/{incident}/",
                                                      302, 302, 302, 403, 302, 302, 404, 404, 302,
         note="Two vans"),
    page("evidence_shared", "GET", "/evidence/{evidence}/shared/",
                                                      302, 302, 404, 403, 200, 200, 404, 404, 200),
    page("evidence_original", "GET", "/evidence/{evidence}/original/",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("evidence_package", "GET", "/evidence/incidents/{incident}/package.zip",
                                                      302, 302, 403, 403, 200, 200, 404, 404, 200),
    page("evidence_release", "POST", "/evidence/incidents/{incident}/release/",
                                                      302, 302, 403, 403, 403, 302, 404, 403, 302),
    # Family support: coordinators of the zone and family-support volunteers (none of the
    # other personas has the skill); everyone else: 404. Detentions: console staff of the
    # incident's zone; opening a second case for one detention is refused (400).
    page("support_cases", "GET", "/support/",         302, 302, 404, 404, 404, 200, 200, 404, 200),
    page("support_case", "GET", "/support/{case}/",   302, 302, 404, 404, 404, 200, 404, 404, 200),
    page("support_case_action", "POST", "/support/{case}/note/",
                                                      302, 302, 404, 404, 404, 302, 404, 404, 302,
         note="Called the legal aid line"),
    page("support_partners", "GET", "/support/partners/",
                                                      302, 302, 404, 404, 404, 200, 200, 404, 200),
    page("support_partners", "POST", "/support/partners/",
                                                      302, 302, 404, 404, 404, 400, 400, 404, 400),
    page("support_partner", "GET", "/support/partners/{partner}/",
                                                      302, 302, 404, 404, 404, 200, 404, 404, 200),
    page("support_partner_delete", "POST", "/support/partners/{partner}/delete/",
                                                      302, 302, 404, 404, 404, 302, 404, 404, 302),
    page("support_detention", "POST", "/support/incidents/{incident}/detention/",
                                                      302, 302, 404, 404, 302, 302, 404, 404, 302,
         people="1"),
    page("support_open_case", "POST", "/support/detentions/{detention}/case/",
                                                      302, 302, 404, 404, 400, 400, 404, 404, 400,
         consent="on", language="es"),
    # Block committees: coordinators and dispatchers of the committee's zone (404 for other
    # staff and other zones); tags: coordinators. The public page is public; joining and
    # leaving need the member's cookie (/me/).
    page("committees", "GET", "/committees/",         302, 302, 404, 404, 200, 200, 200, 200, 200),
    page("committees", "POST", "/committees/",        302, 302, 404, 404, 400, 400, 400, 400, 400,
         name=""),
    page("committee", "GET", "/committees/{committee}/",
                                                      302, 302, 404, 404, 200, 200, 404, 404, 200),
    page("committee_area", "POST", "/committees/{committee}/area/",
                                                      302, 302, 404, 404, 302, 302, 404, 404, 302,
         latitude=BOYLE[0], longitude=BOYLE[1], radius_m=800),
    page("committee_add_member", "POST", "/committees/{committee}/members/",
                                                      302, 302, 404, 404, 400, 400, 404, 404, 400,
         member_id="999999", role="member"),
    page("committee_plan", "GET", "/committees/{committee}/plan/",
                                                      302, 302, 404, 404, 200, 200, 404, 404, 200),
    page("committee_plan", "POST", "/committees/{committee}/plan/",
                                                      302, 302, 404, 404, 302, 302, 404, 404, 302,
         hotline_caller="Rosa"),
    page("committee_plan_version", "GET", "/committees/{committee}/plan/1/",
                                                      302, 302, 404, 404, 200, 200, 404, 404, 200),
    page("committee_plan_print", "GET", "/committees/{committee}/plan/print/",
                                                      302, 302, 404, 404, 200, 200, 404, 404, 200),
    page("committee_plan_send", "POST", "/committees/{committee}/plan/send/",
                                                      302, 302, 404, 404, 302, 302, 404, 404, 302),
    page("tags", "GET", "/console/tags/",             302, 302, 404, 404, 404, 200, 200, 404, 200),
    page("tags", "POST", "/console/tags/",            302, 302, 404, 404, 404, 400, 400, 404, 400,
         name=""),
    page("committee_public", "GET", "/c/{committee_code}/",
                                                      200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("me_committees", "GET", "/me/committees/",   302, 200, 302, 302, 302, 302, 302, 302, 302),
    page("me_committee_join", "POST", "/me/committees/{committee_code}/join/",
                                                      403, 302, 403, 403, 403, 403, 403, 403, 403),
    page("me_committee_leave", "POST", "/me/committees/{committee_code}/leave/",
                                                      403, 302, 403, 403, 403, 403, 403, 403, 403),
    # The verifier's pages (dispatchers and coordinators may verify too).
    page("verify_list", "GET", "/verify/",            302, 302, 403, 200, 200, 200, 200, 200, 200),
    page("verify", "GET", "/verify/{incident}/",      302, 302, 403, 200, 200, 200, 404, 404, 200),
    page("verify", "POST", "/verify/{incident}/",     302, 302, 403, 200, 200, 200, 404, 404, 200,
         outcome="confirmed"),
    page("verify", "GET", "/verify/{confirmed}/",     302, 302, 403, 404, 200, 200, 404, 404, 200),
    # The embedded admin site: network-wide coordinators only.
    page("admin", "GET", "/admin/",                   302, 302, 302, 302, 302, 302, 302, 302, 200),
    # The API's own pages.
    page("api-v1:openapi-json", "GET", "/api/v1/openapi.json",
                                                      200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("api-v1:openapi-view", "GET", "/api/v1/docs",
                                                      200, 200, 200, 200, 200, 200, 200, 200, 200),
    page("api-v1:api-root", "GET", "/api/v1/",        404, 404, 404, 404, 404, 404, 404, 404, 404),
]

# The same columns; staff send their bearer token, the anonymous and the member none.
ENDPOINTS = [
    api("POST", "/auth/token",                        401, 401, 401, 401, 401, 401, 401, 401, 401,
        username="nobody", password="wrong-password", otp="123456"),
    api("POST", "/reports",                           201, 201, 201, 201, 201, 201, 201, 201, 201,
        **NEW_REPORT),
    api("GET", "/incidents",                          200, 200, 200, 200, 200, 200, 200, 200, 200),
    api("GET", "/incidents/{incident_id}",            404, 404, 404, 200, 200, 200, 404, 404, 200,
        url="/incidents/{incident}"),
    api("POST", "/incidents/{incident_id}/verification",
                                                      401, 401, 403, 200, 200, 200, 404, 404, 200,
        url="/incidents/{incident}/verification", outcome="not_ice"),
    api("POST", "/incidents/{incident_id}/request-verification",
                                                      401, 401, 403, 403, 200, 200, 404, 404, 200,
        url="/incidents/{incident}/request-verification"),
    api("POST", "/incidents/{incident_id}/resolve",   401, 401, 403, 403, 200, 200, 404, 404, 200,
        url="/incidents/{confirmed}/resolve"),
    api("POST", "/incidents/{incident_id}/correction",
                                                      401, 401, 403, 403, 200, 200, 404, 404, 200,
        url="/incidents/{confirmed}/correction"),
    api("GET", "/incidents/{incident_id}/preview",    401, 401, 403, 200, 200, 200, 404, 404, 200,
        url="/incidents/{incident}/preview"),
    api("GET", "/incidents/{incident_id}/alerts",     401, 401, 403, 403, 200, 200, 404, 404, 200,
        url="/incidents/{confirmed}/alerts"),
    api("GET", "/alerts/{alert_id}/deliveries",       401, 401, 403, 403, 200, 200, 404, 404, 200,
        url="/alerts/{alert}/deliveries"),
    api("POST", "/incidents/{incident_id}/dispatches",
                                                      401, 401, 403, 403, 201, 201, 404, 404, 201,
        url="/incidents/{incident}/dispatches", skill="legal_observer", count=1),
    api("GET", "/dispatches/{dispatch_id}",           401, 401, 404, 404, 200, 200, 404, 404, 200,
        url="/dispatches/{dispatch}"),
    api("POST", "/dispatches/{dispatch_id}/accept",   401, 401, 404, 404, 403, 403, 404, 404, 403,
        url="/dispatches/{dispatch}/accept"),
    api("POST", "/dispatches/{dispatch_id}/decline",  401, 401, 404, 404, 403, 403, 404, 404, 403,
        url="/dispatches/{dispatch}/decline"),
    api("POST", "/dispatches/{dispatch_id}/check-in", 401, 401, 404, 404, 403, 403, 404, 404, 403,
        url="/dispatches/{dispatch}/check-in"),
    api("POST", "/dispatches/{dispatch_id}/check-out",
                                                      401, 401, 404, 404, 403, 403, 404, 404, 403,
        url="/dispatches/{dispatch}/check-out"),
    # Witnesses: a confirmed incident (the drill); an unconfirmed one answers 409.
    api("POST", "/incidents/{incident_id}/witnesses", 401, 401, 403, 403, 201, 201, 404, 404, 201,
        url="/incidents/{confirmed}/witnesses", radius_m=1000, cap=20),
    # Evidence (multipart): as on the pages above.
    api("POST", "/incidents/{incident_id}/evidence",  401, 401, 201, 403, 201, 201, 404, 404, 201,
        url="/incidents/{incident}/evidence", file=PHOTO, note="Two vans"),
    api("GET", "/evidence/{evidence_id}/shared",      401, 401, 404, 403, 200, 200, 404, 404, 200,
        url="/evidence/{evidence}/shared"),
    api("GET", "/incidents/{incident_id}/evidence-package",
                                                      401, 401, 403, 403, 200, 200, 404, 404, 200,
        url="/incidents/{incident}/evidence-package"),
    # Committees: organisers of the zone; Boyle Heights is not the Van Nuys staff's (400 for
    # the zone, 404 for the committee); the member is not one of theirs either.
    api("POST", "/committees",                        401, 401, 403, 403, 201, 201, 400, 400, 201,
        name="Calle Soto", zone="Boyle Heights"),
    api("POST", "/committees/{committee_id}/members", 401, 401, 403, 403, 201, 201, 404, 404, 201,
        url="/committees/{committee}/members", member_id="{member}", role="captain"),
    # A member of Boyle Heights: not where the Van Nuys coordinator works (400, per field).
    api("POST", "/members",                           401, 401, 403, 403, 403, 201, 400, 403, 201,
        **NEW_MEMBER),
]

ROWS = PAGES + ENDPOINTS


# --- every URL and endpoint has a row -------------------------------------------------------


def url_names(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, str]]:
    """(namespace, name) of every URL of the map."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
            yield from url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern.name or str(pattern.pattern)


def schema_operations(client: Client) -> set[str]:
    schema = client.get("/api/v1/openapi.json").json()
    return {f"{method.upper()} {path}" for path, item in schema["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def test_every_url_and_endpoint_has_a_row(client, db):
    operations = schema_operations(client)
    operation_names = {"issue_token", "create_report", "list_incidents", "get_incident",
                       "record_verification", "request_verification", "resolve",
                       "correction", "preview", "incident_alerts", "alert_deliveries",
                       "create_member", "create_dispatch", "get_dispatch", "accept_dispatch",
                       "decline_dispatch", "check_in", "check_out", "ask_witnesses",
                       "upload_evidence", "shared_copy", "evidence_package",
                       "create_committee", "add_committee_member"}
    keys = {row.key for row in ROWS}
    missing = set()
    for namespace, name in url_names(get_resolver().url_patterns):
        if namespace == "admin":
            key = "admin"  # Django's own admin: one row for the whole site
        elif namespace == "api-v1" and name in operation_names:
            continue  # an endpoint: its row comes from the schema (below)
        else:
            key = f"{namespace}:{name}" if namespace else name
        if key not in keys:
            missing.add(key)
    missing |= operations - keys
    assert not missing, f"URLs or endpoints with no row in the matrix: {sorted(missing)}"
    # ... and no row for something that no longer exists; every operation name is an
    # endpoint of the schema (so the list above cannot hide a page).
    assert {k for k in keys if k.startswith(("GET /", "POST /"))} == operations
    assert len(operation_names) == len(operations)


def test_every_row_names_every_role(db):
    for row in ROWS:
        assert set(row.expected()) == set(ROLES)


# --- the world and the people ---------------------------------------------------------------


def build_world() -> dict[str, Any]:
    zones = two_zones()
    typist = make_staff("typist", Role.DISPATCHER, zones=[zones.boyle])
    checker = make_staff("checker", Role.VERIFIER)
    maria = make_member("María", "es", phone=MEMBER_PHONE, at=BOYLE)
    incident = report_at(BOYLE)
    confirmed = report_at((34.045, -118.215), source="phone", actor=typist.user,
                          is_drill=True)
    do_record_verification(confirmed, checker.user, "confirmed")
    alert = Alert.objects.get(incident=confirmed)
    delivery = Delivery.objects.get(message=alert.message, member=maria)
    Delivery.objects.filter(pk=delivery.pk).update(status=Status.DEAD)
    thread = SmsThread.objects.create(blind_index="thread-1", state=ThreadState.WHAT,
                                      draft_zone=zones.boyle, draft_text="vans")
    SmsThreadMessage.objects.create(thread=thread, direction="in", text="vans")
    observer = responder("observer", zones=[zones.boyle])
    training = observer.responder.trainings.get()
    schedule = shift(zones.boyle, "legal_observer", observer)
    sent = Dispatch.objects.create(incident=confirmed, skill="legal_observer", count=1,
                                   rings=3, round_at=confirmed.created_at)
    Assignment.objects.create(dispatch=sent, staff=observer)
    evidence = do_upload(incident, observer.user,
                         SimpleUploadedFile("photo.png", PHOTO, "image/png"))
    detention = do_record_detention(confirmed, typist, people=1, detained_at="")
    case = do_open_case(detention, typist, consent=True, language="es", needs=["legal"])
    partner = Partner.objects.create(name="Legal aid", services=["legal"], languages=["es"],
                                     zone=zones.boyle)
    committee = do_create_committee(name="Calle Soto", zone=zones.boyle)
    do_save_plan(committee, {"hotline_caller": "Rosa"}, actor=typist)
    voicemail = Voicemail.objects.create(call_sid="CA-matrix", duration=12)
    offer = Offer.objects.create(kind=OfferKind.INCIDENT, object_id=incident.pk,
                                 stage=OfferStage.PRIMARY, zone=zones.boyle,
                                 offered_at=timezone.now())
    return {"voicemail": voicemail.pk, "offer": offer.pk, "dispatch": sent.pk,
            "evidence": evidence.pk, "zones": zones, "incident": incident.pk,
            "confirmed": confirmed.pk,
            "alert": alert.pk, "member": maria.pk, "delivery": delivery.pk,
            "thread": thread.pk, "maria": maria, "responder": observer.pk,
            "training": training.pk, "schedule": schedule.pk, "detention": detention.pk,
            "case": case.pk, "partner": partner.pk, "committee": committee.pk,
            "committee_code": committee.code}


def member_signed_in(member: Any) -> Client:
    client = Client()
    client.post("/me/", {"contact": MEMBER_PHONE})
    response = client.post("/me/code/", {"contact": MEMBER_PHONE,
                                         "code": current().code(member)})
    assert response.status_code == 302 and response["Location"] == "/me/"
    return client


def someone(role: str, world: dict[str, Any]) -> tuple[Client, dict[str, str]]:
    """The role's browser, and the headers of its API token."""
    zones = world["zones"]
    if role == "anonymous":
        return Client(), {}
    if role == "member":
        return member_signed_in(world["maria"]), {}
    staff: Persona
    if role == "network_coordinator":
        staff = persona("network", Role.COORDINATOR)
        # As create_staff makes them: the admin site is theirs.
        staff.user.is_staff = True
        staff.user.save(update_fields=["is_staff"])
    elif role.endswith("_elsewhere"):
        staff = persona(role, role.split("_")[0], zones=[zones.van_nuys])
    else:
        staff = persona(role, role, zones=[zones.boyle],
                        **({"on_call": True, "at": BOYLE, "phone": "+13235550151"}
                           if role == Role.VERIFIER else {}))
    return staff.client, staff.api()


def answer(client: Client, row: Row, world: dict[str, Any], headers: dict[str, str]) -> int:
    path = row.path.format(**world)
    cookies = copy.deepcopy(client.cookies)
    try:
        with transaction.atomic():
            if row.key.startswith("POST /") and "file" in row.data:  # multipart
                files = {k: SimpleUploadedFile("upload.png", v) if isinstance(v, bytes) else v
                         for k, v in row.data.items()}
                response = client.post(path, files, **headers)
            elif row.key.startswith(("GET /", "POST /")):
                send = client.get if row.method == "GET" else client.post
                # "{member}" in a body: the world's object (an id, sent as a number).
                data = {k: world[v[1:-1]] if isinstance(v, str) and v[1:-1] in world
                        and v.startswith("{") else v for k, v in row.data.items()}
                response = send(path, data or None, content_type="application/json",
                                **headers) if row.method == "POST" else send(path, **headers)
            elif row.method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, row.data)
            transaction.set_rollback(True)
    except Exception as exc:  # noqa: BLE001 - a 500, shown in the table of differences
        return 500 if not isinstance(exc, AssertionError) else 599
    finally:
        client.cookies = cookies
        cache.clear()
    return response.status_code


@pytest.mark.usefixtures("inbox")
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_everywhere(db, role):
    world = build_world()
    client, headers = someone(role, world)
    wrong = []
    for row in ROWS:
        expected = row.expected()[role]
        got = answer(client, row, world, headers)
        if got != expected:
            wrong.append(f"{row.method} {row.path} {row.data or ''}: expected {expected}, "
                         f"got {got}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
