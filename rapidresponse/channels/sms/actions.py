"""What the SMS channel does: texts received on the hotline number (keywords and the SMS
report conversation), dispatchers' replies, and Twilio's delivery receipts.

Who is texting is found by the blind index of their number, never by the number itself.

Reaching a sender who is not a member: the outbox delivers to a member's contact point, so a
dispatcher's reply to a stranger creates, at that moment, a minimal member record: status
"pending" (the alert fan-out takes only active members, so it never receives alerts), no
name, no place, the number encrypted with its blind index. Pending records are deleted after
RETENTION_UNCONFIRMED_MEMBER_HOURS; the thread keeps the number encrypted and makes the record
again for a later reply. If the person later joins on the web, their sign-up finds this
record and confirms it like any other. A stranger who texts STOP gets an opted-out record
(blind index only) so that the number is never messaged again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.models import Staff
from rapidresponse.channels.sms import texts
from rapidresponse.channels.sms.keywords import (
    Keyword,
    fold,
    guess_activity,
    guess_agency,
    guess_language,
    guess_size,
    keyword_of,
)
from rapidresponse.channels.sms.models import (
    DeliveryReceipt,
    InboundSms,
    SmsThread,
    SmsThreadMessage,
    ThreadState,
)
from rapidresponse.channels.sms.segments import sms_text
from rapidresponse.channels.sms.twilio import PERMANENT_CODES, SENT_STATUSES
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery, Kind, Status
from rapidresponse.incidents.actions import build_report_input, do_submit_report
from rapidresponse.incidents.models import UNVERIFIED_STATES, Report, Source, VerificationRequest
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.actions import do_opt_out
from rapidresponse.members.contacts import find_contact, index_for, normalise_phone
from rapidresponse.members.models import Channel, ContactPoint, Member, Zone, language_codes

log = logging.getLogger(__name__)

Actor = User | AnonymousUser | None

# A conversation left this long is over: the next text starts a new one.
CONVERSATION_TIMEOUT = timedelta(hours=2)
# Twilio joins a long SMS into one Body of at most 1600 characters.
MAX_INBOUND = 1600
MAX_REPLY = 480
FINAL_STATUSES = {"delivered", "undelivered", "failed", "canceled", "read"}


# --- who is texting --------------------------------------------------------------------


@dataclass
class Sender:
    number: str  # E.164 when it is a valid phone number, else as Twilio gave it
    is_phone: bool
    index: str
    contact: ContactPoint | None

    @property
    def member(self) -> Member | None:
        return self.contact.member if self.contact is not None else None


def identify(raw: str) -> Sender:
    raw = raw.strip()
    try:
        number, is_phone = normalise_phone(raw), True
    except ValidationError:
        number, is_phone = raw, False
    index = index_for(Channel.SMS, number)
    contact = (ContactPoint.objects.select_related("member")
               .filter(kind=Channel.SMS, blind_index=index).first())
    return Sender(number=number, is_phone=is_phone, index=index, contact=contact)


def _thread_for(sender: Sender, language: str, *, create: bool) -> SmsThread | None:
    thread = SmsThread.objects.select_for_update().filter(blind_index=sender.index).first()
    if thread is None and create:
        # Two first texts at once from one number: the second finds the first's thread.
        made, _created = SmsThread.objects.get_or_create(
            blind_index=sender.index,
            defaults={"language": language,
                      "number_encrypted": crypto.encrypt(sender.number)})
        thread = SmsThread.objects.select_for_update().get(pk=made.pk)
    return thread


def _log(thread: SmsThread | None, direction: str, text: str, **extra: Any) -> None:
    if thread is not None and text:
        SmsThreadMessage.objects.create(thread=thread, direction=direction, text=text, **extra)


# --- receiving ---------------------------------------------------------------------------


def receive(message_sid: str, sender_raw: str, body: str) -> str:
    """Process one received SMS exactly once; return the reply ("" for none). A retried
    webhook (same MessageSid) gets the reply given the first time and changes nothing."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = InboundSms.objects.create(message_sid=message_sid[:64])
        except IntegrityError:
            return InboundSms.objects.get(message_sid=message_sid[:64]).reply
        reply = sms_text(handle(sender_raw, body))
        InboundSms.objects.filter(pk=record.pk).update(reply=reply)
    return reply


def handle(sender_raw: str, body: str) -> str:
    text = body.replace("\x00", "").strip()[:MAX_INBOUND]
    sender_raw = sender_raw.replace("\x00", "")
    sender = identify(sender_raw)
    member = sender.member
    keyword, keyword_language = keyword_of(text)
    existing = SmsThread.objects.filter(blind_index=sender.index).first()
    if member is not None and member.status == Member.Status.OPTED_OUT:
        # An opted-out number gets nothing, ever, until it opts in again.
        return _opt_in(sender, _language(member, existing, text, keyword_language)) \
            if keyword == Keyword.OPT_IN else ""
    language = _language(member, existing, text, keyword_language)
    if keyword == Keyword.OPT_OUT:
        return _opt_out(sender, language, text)
    thread = _thread_for(sender, language, create=False)
    if keyword is not None and keyword != Keyword.YES:
        _log(thread, SmsThreadMessage.Direction.IN, text)
        if keyword == Keyword.OPT_IN:
            reply = _opt_in(sender, language)
        elif keyword == Keyword.HELP:
            reply = texts.text("help", language)
        else:
            language = keyword.value
            reply = _set_language(sender, thread, language)
        _log(thread, SmsThreadMessage.Direction.OUT, reply)
        return reply
    if keyword == Keyword.YES:
        going = _verifier_going(sender, language)
        if going or thread is None or thread.state not in (ThreadState.WHERE,
                                                            ThreadState.WHAT):
            _log(thread, SmsThreadMessage.Direction.IN, text)
            reply = going or texts.text("nothing_pending", language)
            _log(thread, SmsThreadMessage.Direction.OUT, reply)
            return reply
    return _converse(sender, language, text)


def _language(member: Member | None, thread: SmsThread | None, text: str,
              keyword_language: str) -> str:
    """The sender's language: a Spanish keyword says Spanish; otherwise the member's choice,
    the conversation's, or a guess from the words."""
    if keyword_language == "es":
        return "es"
    codes = language_codes()
    if member is not None and member.language in codes:
        return member.language
    if thread is not None and thread.language in codes:
        return thread.language
    return keyword_language or guess_language(text, settings.LANGUAGE_CODE)


def _signal_member(sender: Sender) -> Member | None:
    """The member whose (separate) Signal number this phone is, if it is no SMS contact."""
    if not sender.is_phone:
        return None
    contact = find_contact(Channel.SIGNAL, sender.number)
    return contact.member if contact is not None else None


def _opt_out(sender: Sender, language: str, text: str) -> str:
    member = sender.member
    on_signal = _signal_member(sender) if member is None else None
    if on_signal is not None:
        # STOP from the phone a member gets Signal alerts on: they leave, whatever channel
        # they texted from; the number itself is blocked for SMS below, as any stranger's.
        do_opt_out(on_signal)
        if on_signal.language in language_codes():
            language = on_signal.language
    if member is None:
        # A stranger: keep only the blind index, so the number is never messaged again.
        member = Member.objects.create(status=Member.Status.PENDING,
                                       source=Member.Source.SIGNUP, language=language)
        ContactPoint.objects.create(member=member, kind=Channel.SMS,
                                    blind_index=sender.index, enabled=False)
    do_opt_out(member)
    # Carriers allow nothing more to a number that texted STOP, not even a sign-up code,
    # until it texts START (Twilio refuses with 21610): the number is blocked until then.
    ContactPoint.objects.filter(member=member, kind=Channel.SMS).update(
        disabled_at=timezone.now(), disabled_reason="replied STOP by SMS")
    thread = _thread_for(sender, language, create=False)
    if thread is not None:
        _log(thread, SmsThreadMessage.Direction.IN, text)
        thread.number_encrypted = ""
        _clear_draft(thread)
        thread.save()
    reply = texts.text("opted_out", language)
    _log(thread, SmsThreadMessage.Direction.OUT, reply)
    return reply


def _opt_in(sender: Sender, language: str) -> str:
    member, contact = sender.member, sender.contact
    if member is None or contact is None or member.status == Member.Status.PENDING:
        return texts.text("not_member", language)
    now = timezone.now()
    was_out = member.status == Member.Status.OPTED_OUT
    if not was_out and contact.enabled and contact.disabled_at is None:
        return texts.text("already_in", language)
    if was_out:
        member.status = Member.Status.ACTIVE
        member.consent_at = now
        member.opted_out_at = None
        member.save(update_fields=["status", "consent_at", "opted_out_at"])
    contact.value_encrypted = crypto.encrypt(sender.number)
    contact.enabled = True
    contact.verified_at = contact.verified_at or now
    contact.disabled_at = None
    contact.disabled_reason = ""
    contact.save(update_fields=["value_encrypted", "enabled", "verified_at", "disabled_at",
                                "disabled_reason"])
    SmsThread.objects.filter(blind_index=sender.index).update(
        number_encrypted=crypto.encrypt(sender.number))
    if not member.watch_areas.exists():
        return texts.text("opted_in_no_place", language)
    return texts.text("opted_in", language)


def _set_language(sender: Sender, thread: SmsThread | None, language: str) -> str:
    if sender.member is not None:
        Member.objects.filter(pk=sender.member.pk).update(language=language)
    if thread is None:
        # Remember the choice for the conversations to come (no number kept yet).
        SmsThread.objects.update_or_create(blind_index=sender.index,
                                           defaults={"language": language})
    else:
        thread.language = language
        thread.save(update_fields=["language", "updated_at"])
    return texts.text("language_set", language)


def _verifier_going(sender: Sender, language: str) -> str:
    """YES from a verifier: they are going to the incident they were last asked about."""
    member = sender.member
    if member is None or member.status != Member.Status.ACTIVE:
        return ""
    staff = Staff.objects.filter(member=member, user__is_active=True).select_related(
        "user").first()
    if staff is None:
        return ""
    request = (VerificationRequest.objects.select_for_update()
               .filter(verifier=staff, accepted_at__isnull=True,
                       incident__state__in=UNVERIFIED_STATES)
               .select_related("incident").order_by("-created_at", "-id").first())
    if request is None:
        return ""
    request.accepted_at = timezone.now()
    request.save(update_fields=["accepted_at"])
    audit.record(staff.user, "incident.verifier_going", request.incident, channel="sms")
    url = settings.PUBLIC_URL + reverse("verify", args=[request.incident_id])
    return texts.verifier_going(language, request.incident_id, url)


# --- the SMS report conversation -----------------------------------------------------------


def _clear_draft(thread: SmsThread) -> None:
    thread.state = ThreadState.IDLE
    thread.draft_text = ""
    thread.draft_place = ""
    thread.draft_zone = None
    thread.draft_tries = 0
    thread.draft_started_at = None


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


def _converse(sender: Sender, language: str, text: str) -> str:
    thread = _thread_for(sender, language, create=True)
    assert thread is not None
    if not thread.number_encrypted:
        thread.number_encrypted = crypto.encrypt(sender.number)
    incoming = SmsThreadMessage.objects.create(thread=thread, text=text,
                                               direction=SmsThreadMessage.Direction.IN)
    now = timezone.now()
    stale = (thread.last_inbound_at is None
             or now - thread.last_inbound_at > CONVERSATION_TIMEOUT)
    report: Report | None = None
    if thread.state == ThreadState.UNPLACED:
        # Waiting for a dispatcher to place the report: everything more goes with it.
        thread.draft_text = f"{thread.draft_text}\n{text}"[:2000]
        reply = texts.text("received", language)
    elif thread.state == ThreadState.IDLE or stale:
        _clear_draft(thread)
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
    if report is not None:
        SmsThreadMessage.objects.filter(pk=incoming.pk).update(report=report)
    _log(thread, SmsThreadMessage.Direction.OUT, reply)
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
    if number:
        data["contact"] = number
    else:
        data["reporter_token"] = thread.blind_index
    report = do_submit_report(build_report_input(data), source=Source.SMS, actor=actor)
    thread.report = report
    _clear_draft(thread)
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
    _clear_draft(thread)
    thread.save()
    audit.record(actor, "sms.closed", thread)


# --- dispatchers' replies -----------------------------------------------------------------


def reply_contact(thread: SmsThread) -> ContactPoint:
    """The contact point the outbox sends a reply to (see the module docstring)."""
    number = thread.number
    contact = (ContactPoint.objects.select_related("member")
               .filter(kind=Channel.SMS, blind_index=thread.blind_index).first())
    if not number or (contact is not None
                      and contact.member.status == Member.Status.OPTED_OUT):
        raise InvalidInput({"text": _("This number has opted out: nothing can be sent to it.")})
    if contact is None:
        member = Member.objects.create(status=Member.Status.PENDING, source=Member.Source.STAFF,
                                       language=thread.language)
        return ContactPoint.objects.create(
            member=member, kind=Channel.SMS, value_encrypted=crypto.encrypt(number),
            blind_index=thread.blind_index, enabled=False)
    if contact.disabled_at is not None:
        raise InvalidInput({"text": _("Messages to this number fail for good (%(reason)s).")
                            % {"reason": contact.disabled_reason or "-"}})
    if not contact.value_encrypted:
        contact.value_encrypted = crypto.encrypt(number)
        contact.save(update_fields=["value_encrypted"])
    return contact


@transaction.atomic
def do_reply(thread: SmsThread, text: str, actor: Actor) -> SmsThreadMessage:
    """A dispatcher's reply, sent through the outbox like every message."""
    text = str(text or "").strip()
    if not text:
        raise InvalidInput({"text": _("Write a reply first.")})
    if len(text) > MAX_REPLY:
        raise InvalidInput({"text": _("Too long: %(limit)s characters at most.")
                            % {"limit": MAX_REPLY}})
    thread = SmsThread.objects.select_for_update().get(pk=thread.pk)
    contact = reply_contact(thread)
    message = outbox.send_to_member(contact.member, Kind.NOTICE,
                                    {thread.language: {"subject": "", "text": text}},
                                    channels=[Channel.SMS])
    user = actor if actor is not None and actor.is_authenticated else None
    entry = SmsThreadMessage.objects.create(thread=thread, direction="out", text=text,
                                            author=user, message=message)
    thread.save(update_fields=["updated_at"])
    audit.record(actor, "sms.replied", thread, message_id=message.pk)
    return entry


# --- delivery receipts --------------------------------------------------------------------


def record_status(delivery_id: int, message_sid: str, status: str,
                  error_code: int | None) -> bool:
    """Twilio's status callback for one delivery. Returns False if it matches nothing.

    A failure for good is written with the member's next channel in one transaction. The
    callback names the message itself, so if a reconcile guessed this SID for another
    delivery, that guess is undone (outbox.take_provider_id)."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("message")
                    .filter(pk=delivery_id, channel=Channel.SMS).first())
        if delivery is None or (delivery.provider_id and delivery.provider_id != message_sid):
            return False
        receipt = DeliveryReceipt.objects.filter(delivery=delivery).first()
        if receipt is not None and receipt.status in FINAL_STATUSES \
                and status not in FINAL_STATUSES:
            return True  # a late "sent" after "delivered": keep the final word
        DeliveryReceipt.objects.update_or_create(
            delivery=delivery, defaults={"message_sid": message_sid, "status": status,
                                         "error_code": error_code})
        now = timezone.now()
        if status in ("failed", "undelivered"):
            error = f"Twilio {status}" + (f" ({error_code})" if error_code else "")
            outbox.take_provider_id(Channel.SMS, message_sid, delivery.pk)
            # Also while the worker has not yet written down the send (it records outcomes
            # in groups): its write only applies to a delivery still `sending`.
            failed = Delivery.objects.filter(
                pk=delivery.pk, status__in=(Status.SENT, Status.UNKNOWN, Status.SENDING),
            ).update(status=Status.FAILED, error=error, provider_id=message_sid,
                     updated_at=now)
            if error_code in PERMANENT_CODES:
                ContactPoint.objects.filter(
                    member_id=delivery.member_id, kind=Channel.SMS, disabled_at__isnull=True,
                ).update(disabled_at=now, disabled_reason=error)
            if failed:
                outbox.fall_back(delivery)  # the member gets it on their next channel
        elif status in SENT_STATUSES and delivery.status == Status.UNKNOWN:
            # A send whose answer was lost is settled by the callback itself.
            outbox.take_provider_id(Channel.SMS, message_sid, delivery.pk)
            Delivery.objects.filter(pk=delivery.pk, status=Status.UNKNOWN).update(
                status=Status.SENT, provider_id=message_sid, sent_at=now, error="",
                updated_at=now)
    return True


def receipts_by_status(message_ids: list[int]) -> dict[str, int]:
    from django.db.models import Count

    rows = (DeliveryReceipt.objects.filter(delivery__message_id__in=message_ids)
            .values("status").annotate(n=Count("delivery_id")))
    return {row["status"]: row["n"] for row in rows}


def open_threads() -> Any:
    """Conversations a dispatcher should look at: waiting for a place, or recent."""
    since = timezone.now() - timedelta(hours=24)
    return (SmsThread.objects.filter(updated_at__gte=since)
            .exclude(messages__isnull=True).distinct().order_by("-updated_at")[:20])


def threads_for_incident(incident_id: int) -> list[SmsThread]:
    return list(SmsThread.objects.filter(messages__report__incident_id=incident_id)
                .distinct().order_by("-updated_at"))
