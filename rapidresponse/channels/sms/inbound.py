"""Texts received on the hotline number, and where each one goes.

A text is handled once (by Twilio's MessageSid). Then, in this order:
1. the carriers' keywords (compliance.py): STOP and its family, START, HELP, ESPAÑOL /
   ENGLISH — always, whatever else was asked;
2. the questions this phone was asked and has not answered (questions.py), the most recent
   first: a request to verify or to go, an RSVP, a vote;
3. the apps' commands (`@command(...)`: a word the whole text must be, like PLAN; or, with
   `argument=True`, the first word of a text that goes on, like JOIN 7KQ2XM);
4. a YES that answers nothing: the sender hears that nothing is waiting for an answer,
   unless the conversation just asked them where or what;
5. anything else goes to the conversation (`conversation`): the SMS report of incidents.

The apps above this channel register their handlers when they are ready, so this module
never imports them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rapidresponse.channels.sms import compliance, questions, texts
from rapidresponse.channels.sms.keywords import Keyword, fold, guess_language, keyword_of
from rapidresponse.channels.sms.models import InboundSms, SmsThread, SmsThreadMessage, ThreadState
from rapidresponse.channels.sms.segments import sms_text
from rapidresponse.channels.sms.threads import Sender, identify, log_message, thread_for
from rapidresponse.members.contacts import normalise_phone, phone_allowed
from rapidresponse.members.models import Member, language_codes

# Twilio joins a long SMS into one Body of at most 1600 characters.
MAX_INBOUND = 1600

#: A handler gets the sender, their language and the text, and returns the reply; a
#: command's handler may return None: "not for me" (then the conversation gets the text).
Handler = Callable[[Sender, str, str], "str | None"]
_commands: dict[str, Handler] = {}
_with_argument: dict[str, Handler] = {}
_conversation: list[Handler] = []


def command(*words: str, argument: bool = False) -> Callable[[Handler], Handler]:
    """Register a command: a text that is exactly one of these words (case and accents
    ignored, as keywords.fold reads them) goes to the decorated handler; with `argument`,
    a text that starts with one of these words and goes on (the handler reads the rest)."""
    def register(fn: Handler) -> Handler:
        for word in words:
            (_with_argument if argument else _commands)[fold(word)] = fn
        return fn
    return register


def _command_for(text: str) -> Handler | None:
    folded = fold(text)
    if folded in _commands:
        return _commands[folded]
    first, _space, rest = folded.partition(" ")
    return _with_argument.get(first) if rest else None


def conversation(fn: Handler) -> Handler:
    """Register what handles any text that is neither a keyword nor a claimed answer (one
    handler; the last registered wins)."""
    _conversation[:] = [fn]
    return fn


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
        if reply and not _may_answer(sender_raw):
            # Taken (a report from abroad still reaches dispatchers), but not answered: the
            # network pays for no text to a country outside PHONE_COUNTRIES.
            reply = ""
        InboundSms.objects.filter(pk=record.pk).update(reply=reply)
    return reply


def _may_answer(sender_raw: str) -> bool:
    try:
        return phone_allowed(normalise_phone(sender_raw.replace("\x00", "")))
    except ValidationError:
        return False


def handle(sender_raw: str, body: str) -> str:
    text = body.replace("\x00", "").strip()[:MAX_INBOUND]
    sender = identify(sender_raw.replace("\x00", ""))
    member = sender.member
    keyword, keyword_language = keyword_of(text)
    existing = SmsThread.objects.filter(blind_index=sender.thread_index).first()
    language = _language(member, existing, text, keyword_language)
    if member is not None and member.status == Member.Status.OPTED_OUT:
        # An opted-out number gets nothing, ever, until it opts in again.
        return compliance.opt_in(sender, language) if keyword == Keyword.OPT_IN else ""
    if keyword == Keyword.OPT_OUT:
        return compliance.opt_out(sender, language, text)
    thread = thread_for(sender, language, create=False)
    if keyword in (Keyword.OPT_IN, Keyword.HELP, Keyword.SPANISH, Keyword.ENGLISH):
        log_message(thread, SmsThreadMessage.Direction.IN, text)
        if keyword == Keyword.OPT_IN:
            reply = compliance.opt_in(sender, language)
        elif keyword == Keyword.HELP:
            reply = texts.text("help", language)
        else:
            reply = compliance.set_language(sender, thread, keyword.value)
        log_message(thread, SmsThreadMessage.Direction.OUT, reply)
        return reply
    answered = questions.answer(sender, language, text)
    handler = _command_for(text) if answered is None else None
    if handler is not None:
        answered = handler(sender, language, text)
    asked = thread is not None and thread.state in (ThreadState.WHERE, ThreadState.WHAT)
    if answered is None and keyword == Keyword.YES and not asked:
        answered = texts.text("nothing_pending", language)
    if answered is not None:
        # A conversation that asked where or what takes anything else as its answer.
        log_message(thread, SmsThreadMessage.Direction.IN, text)
        log_message(thread, SmsThreadMessage.Direction.OUT, answered)
        return answered
    if not _conversation:
        return texts.text("help", language)
    return _conversation[0](sender, language, text) or ""


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
