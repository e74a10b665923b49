"""Conversations with phone numbers on the hotline number: who is texting (found by the blind
index of their number, never by the number itself), the thread of everything said with a
number, and the dispatchers' replies through the outbox.

Reaching a sender who is not a member: the outbox delivers to a member's contact point, so a
dispatcher's reply to a stranger creates, at that moment, a minimal member record: status
"pending" (the alert fan-out takes only active members, so it never receives alerts), no
name, no place, the number encrypted with its blind index. Pending records are deleted after
RETENTION_UNCONFIRMED_MEMBER_HOURS; the thread keeps the number encrypted and makes the record
again for a later reply. If the person later joins on the web, their sign-up finds this
record and confirms it like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.channels.sms.models import SmsThread, SmsThreadMessage, ThreadState
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Kind
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.contacts import index_for, normalise_phone, reporter_index_for
from rapidresponse.members.models import Channel, ContactPoint, Member

Actor = User | AnonymousUser | None

MAX_REPLY = 480


@dataclass
class Sender:
    number: str  # E.164 when it is a valid phone number, else as Twilio gave it
    is_phone: bool
    index: str  # the blind index of a member's SMS contact with this number
    contact: ContactPoint | None
    # The conversation's own index (REPORTER_INDEX_KEY): a seized database cannot join the
    # hotline's threads, or the reports they made, with the members' contacts.
    thread_index: str = ""

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
    return Sender(number=number, is_phone=is_phone, index=index, contact=contact,
                  thread_index=reporter_index_for(Channel.SMS, number))


def thread_for(sender: Sender, language: str, *, create: bool) -> SmsThread | None:
    thread = (SmsThread.objects.select_for_update().filter(blind_index=sender.thread_index)
              .first())
    if thread is None and create:
        # Two first texts at once from one number: the second finds the first's thread.
        made, _created = SmsThread.objects.get_or_create(
            blind_index=sender.thread_index,
            defaults={"language": language,
                      "number_encrypted": crypto.encrypt(sender.number)})
        thread = SmsThread.objects.select_for_update().get(pk=made.pk)
    return thread


def log_message(thread: SmsThread | None, direction: str, text: str, **extra: Any) -> None:
    if thread is not None and text:
        SmsThreadMessage.objects.create(thread=thread, direction=direction, text=text, **extra)


def clear_draft(thread: SmsThread) -> None:
    thread.state = ThreadState.IDLE
    thread.draft_text = ""
    thread.draft_place = ""
    thread.draft_zone = None
    thread.draft_tries = 0
    thread.draft_started_at = None


def reply_contact(thread: SmsThread) -> ContactPoint:
    """The contact point the outbox sends a reply to (see the module docstring)."""
    number = thread.number
    opted_out = InvalidInput({"text": _("This number has opted out: nothing can be sent to "
                                        "it.")})
    if not number:
        raise opted_out
    index = index_for(Channel.SMS, number)
    contact = (ContactPoint.objects.select_related("member")
               .filter(kind=Channel.SMS, blind_index=index).first())
    if contact is not None and contact.member.status == Member.Status.OPTED_OUT:
        raise opted_out
    if contact is None:
        member = Member.objects.create(status=Member.Status.PENDING, source=Member.Source.STAFF,
                                       language=thread.language)
        return ContactPoint.objects.create(
            member=member, kind=Channel.SMS, value_encrypted=crypto.encrypt(number),
            blind_index=index, enabled=False)
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


def open_threads(threads: Any = None) -> Any:
    """Conversations a dispatcher should look at (of `threads`, e.g. those of their zones):
    waiting for a place, or recent."""
    since = timezone.now() - timedelta(hours=24)
    qs = threads if threads is not None else SmsThread.objects.all()
    return (qs.filter(updated_at__gte=since)
            .exclude(messages__isnull=True).distinct().order_by("-updated_at")[:20])
