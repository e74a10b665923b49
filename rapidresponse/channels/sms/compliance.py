"""The keywords carriers require of every number, in English and Spanish: STOP (and its
family) opts out, START opts in again, HELP says who we are, and ESPAÑOL / ENGLISH choose the
language. They are the SMS channel's own: they work whatever else the system asked."""

from __future__ import annotations

from django.utils import timezone

from rapidresponse.channels.sms import texts
from rapidresponse.channels.sms.models import SmsThread, SmsThreadMessage
from rapidresponse.channels.sms.threads import Sender, clear_draft, log_message, thread_for
from rapidresponse.lib import crypto
from rapidresponse.members.actions import do_opt_out
from rapidresponse.members.contacts import find_contact
from rapidresponse.members.models import Channel, ContactPoint, Member, language_codes


def _signal_member(sender: Sender) -> Member | None:
    """The member whose (separate) Signal number this phone is, if it is no SMS contact."""
    if not sender.is_phone:
        return None
    contact = find_contact(Channel.SIGNAL, sender.number)
    return contact.member if contact is not None else None


def opt_out(sender: Sender, language: str, text: str) -> str:
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
    thread = thread_for(sender, language, create=False)
    if thread is not None:
        log_message(thread, SmsThreadMessage.Direction.IN, text)
        thread.number_encrypted = ""
        clear_draft(thread)
        thread.save()
    reply = texts.text("opted_out", language)
    log_message(thread, SmsThreadMessage.Direction.OUT, reply)
    return reply


def opt_in(sender: Sender, language: str) -> str:
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
    SmsThread.objects.filter(blind_index=sender.thread_index).update(
        number_encrypted=crypto.encrypt(sender.number))
    if not member.watch_areas.exists():
        return texts.text("opted_in_no_place", language)
    return texts.text("opted_in", language)


def set_language(sender: Sender, thread: SmsThread | None, language: str) -> str:
    if sender.member is not None:
        Member.objects.filter(pk=sender.member.pk).update(language=language)
    if thread is None:
        # Remember the choice for the conversations to come (no number kept yet).
        SmsThread.objects.update_or_create(blind_index=sender.thread_index,
                                           defaults={"language": language})
    else:
        thread.language = language
        thread.save(update_fields=["language", "updated_at"])
    return texts.text("language_set", language)
