"""The hotline number's side of incidents: a text that is no keyword starts an SMS report
conversation (where? what?) that ends as a report in the dispatcher queue, and a verifier's
YES says they are going. Both are registered with the SMS channel's router (see apps.py).

Free text from the sender is kept only as the report's notes: it never reaches an alert."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.channels.sms import texts
from rapidresponse.channels.sms.keywords import (
    Keyword,
    fold,
    guess_activity,
    guess_agency,
    guess_size,
    keyword_of,
)
from rapidresponse.channels.sms.models import Question, SmsThread, SmsThreadMessage, ThreadState
from rapidresponse.channels.sms.threads import (
    Actor,
    Sender,
    clear_draft,
    log_message,
    thread_for,
)
from rapidresponse.incidents import events
from rapidresponse.incidents.actions import build_report_input, do_submit_report
from rapidresponse.incidents.models import UNVERIFIED_STATES, Report, Source, VerificationRequest
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.contacts import normalise_phone, phone_allowed
from rapidresponse.zones.models import Zone

log = logging.getLogger(__name__)

# A conversation left this long is over: the next text starts a new one.
CONVERSATION_TIMEOUT = timedelta(hours=2)


def verifier_answers(sender: Sender, language: str, text: str,
                     question: Question) -> str | None:
    """YES to a verification request: the verifier is going to that incident."""
    if keyword_of(text)[0] != Keyword.YES:
        return None
    request = (VerificationRequest.objects.select_for_update()
               .filter(pk=question.object_id, accepted_at__isnull=True,
                       incident__state__in=UNVERIFIED_STATES, verifier__user__is_active=True)
               .select_related("incident", "verifier__user").first())
    if request is None:
        return None
    request.accepted_at = timezone.now()
    request.save(update_fields=["accepted_at"])
    audit.record(request.verifier.user, "incident.verifier_going", request.incident,
                 channel="sms")
    url = settings.PUBLIC_URL + reverse("verify", args=[request.incident_id])
    return texts.verifier_going(language, request.incident_id, url)


def match_zone(text: str) -> Zone | None:
    """The zone a text names (accents and case ignored), the most specific and longest."""
    folded = fold(text)
    if not folded:
        return None
    best: tuple[tuple[int, int], Zone] | None = None
    for zone in Zone.objects.filter(cells__isnull=False).distinct():
        name = fold(zone.name)
        if not name:
            continue
        named = re.search(rf"(^| ){re.escape(name)}( |$)", folded) is not None
        started = len(folded) >= 4 and re.search(rf"(^| ){re.escape(folded)}", name) is not None
        if named or started:
            score = (1 if zone.parent_id else 0, len(name))
            if best is None or score > best[0]:
                best = (score, zone)
    return best[1] if best else None


def zone_examples(limit: int = 3) -> list[str]:
    zones = list(Zone.objects.filter(parent__isnull=False, cells__isnull=False).distinct()
                 .order_by("name")[:limit])
    if not zones:
        zones = list(Zone.objects.filter(cells__isnull=False).distinct().order_by("name")[:limit])
    return [z.name for z in zones]


def converse(sender: Sender, language: str, text: str) -> str:
    thread = thread_for(sender, language, create=True)
    assert thread is not None
    if not thread.number_encrypted:
        thread.number_encrypted = crypto.encrypt(sender.number)
    incoming = SmsThreadMessage.objects.create(thread=thread, text=text,
                                               direction=SmsThreadMessage.Direction.IN)
    was_waiting = thread.state == ThreadState.UNPLACED
    now = timezone.now()
    stale = (thread.last_inbound_at is None
             or now - thread.last_inbound_at > CONVERSATION_TIMEOUT)
    report: Report | None = None
    if thread.state == ThreadState.UNPLACED:
        # Waiting for a dispatcher to place the report: everything more goes with it.
        thread.draft_text = f"{thread.draft_text}\n{text}"[:2000]
        reply = texts.text("received", language)
    elif thread.state == ThreadState.IDLE or stale:
        clear_draft(thread)
        thread.language = language
        thread.state = ThreadState.WHERE
        thread.draft_text = text[:2000]
        thread.draft_started_at = now
        reply = texts.text("ask_where", thread.language)
    elif thread.state == ThreadState.WHERE:
        zone = match_zone(text) or match_zone(thread.draft_text)
        thread.draft_place = (f"{thread.draft_place}; {text}" if thread.draft_place
                              else text)[:200]
        if zone is None and thread.draft_tries == 0:
            thread.draft_tries = 1
            reply = texts.ask_where_again(thread.language, zone_examples())
        else:
            thread.draft_zone = zone
            thread.state = ThreadState.WHAT
            reply = texts.text("ask_what", thread.language)
    else:  # WHAT
        thread.draft_text = f"{thread.draft_text}\n{text}"[:2000]
        if thread.draft_zone_id is None:
            thread.state = ThreadState.UNPLACED
            reply = texts.text("thanks_unplaced", thread.language)
        else:
            try:
                report = _file(thread, sender.number if sender.is_phone else "",
                               zone_id=thread.draft_zone_id, actor=None)
                reply = texts.text("thanks", thread.language)
            except InvalidInput:
                log.exception("SMS report could not be filed; left for a dispatcher")
                thread.state = ThreadState.UNPLACED
                reply = texts.text("thanks_unplaced", thread.language)
    thread.last_inbound_at = now
    thread.save()
    if thread.state == ThreadState.UNPLACED and not was_waiting:
        events.thread_waiting(thread)
    if report is not None:
        SmsThreadMessage.objects.filter(pk=incoming.pk).update(report=report)
    log_message(thread, SmsThreadMessage.Direction.OUT, reply)
    return reply


def _file(thread: SmsThread, number: str, *, zone_id: int, actor: Actor,
          activity: str = "", agency: str = "") -> Report:
    """Turn the conversation into a report in the dispatcher queue (source: SMS)."""
    started = thread.draft_started_at
    data: dict[str, Any] = {
        "zone": zone_id,
        "activity": activity or guess_activity(thread.draft_text),
        "agency": agency or guess_agency(thread.draft_text),
        "size": guess_size(thread.draft_text),
        "location_text": thread.draft_place[:200],
        "notes": thread.draft_text[:2000],
        "language": thread.language,
        "observed_at": started if started and timezone.now() - started < timedelta(hours=23)
        else None,
    }
    if number and phone_allowed(number):
        data["contact"] = number
    else:
        # No number to call back (or one of a country the network does not send to: the
        # report is taken all the same, the conversation's index tells its reporter apart).
        data["reporter_token"] = thread.blind_index
    report = do_submit_report(build_report_input(data), source=Source.SMS, actor=actor)
    thread.report = report
    clear_draft(thread)
    return report


@transaction.atomic
def do_file_thread(thread: SmsThread, *, zone_id: Any, activity: str, agency: str,
                   actor: Actor) -> Report:
    """A dispatcher places a conversation the system could not place, and files it."""
    thread = SmsThread.objects.select_for_update().get(pk=thread.pk)
    if thread.state not in (ThreadState.UNPLACED, ThreadState.WHAT, ThreadState.WHERE):
        raise InvalidInput({"thread": _("There is no report waiting in this conversation.")})
    number = thread.number
    try:
        is_phone = bool(number) and normalise_phone(number) == number
    except ValidationError:
        is_phone = False
    report = _file(thread, number if is_phone else "", zone_id=zone_id, actor=actor,
                   activity=activity, agency=agency)
    thread.save()
    last_in = thread.messages.filter(direction="in").order_by("-created_at", "-id").first()
    if last_in is not None:
        SmsThreadMessage.objects.filter(pk=last_in.pk).update(report=report)
    audit.record(actor, "sms.report_filed", thread, report_id=report.pk)
    return report


@transaction.atomic
def do_close_thread(thread: SmsThread, actor: Actor) -> None:
    """A dispatcher decides a waiting conversation is not a report."""
    thread = SmsThread.objects.select_for_update().get(pk=thread.pk)
    clear_draft(thread)
    thread.save()
    audit.record(actor, "sms.closed", thread)


def threads_for_incident(incident_id: int) -> list[SmsThread]:
    return list(SmsThread.objects.filter(messages__report__incident_id=incident_id)
                .distinct().order_by("-updated_at"))
