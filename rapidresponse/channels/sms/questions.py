"""Questions asked by SMS, and where the answer goes.

An app that sends a message asking for an answer ("reply YES if you are going", "reply YES,
NO or MAYBE") records the question with `ask_member` in the same transaction, naming a
topic it has registered with `@topic(...)`. When that phone texts next (and before any other
handling but the carriers' keywords), the open questions it was asked are offered to their
topics' handlers, the most recent first: a handler returns the reply, or None when the text is
no answer to its question (then the next question, the apps' commands and the conversation
get it). An answered or expired question is asked no more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from rapidresponse.channels.sms.models import Question
from rapidresponse.channels.sms.threads import Sender
from rapidresponse.members.models import Channel, ContactPoint, Member

#: handler(sender, language, text, question) -> the reply, or None: not an answer to it.
Handler = Callable[[Sender, str, str, Question], "str | None"]
_topics: dict[str, Handler] = {}

#: How long a question waits for an answer unless its app says otherwise.
DEFAULT_TTL = timedelta(hours=12)


def topic(name: str) -> Callable[[Handler], Handler]:
    """Register the handler of a topic's answers (a decorator)."""
    def register(fn: Handler) -> Handler:
        _topics[name] = fn
        return fn
    return register


def ask_member(member: Member, name: str, object_id: int, *,
               ttl: timedelta = DEFAULT_TTL) -> Question | None:
    """Record that `member` was asked a question of this topic about `object_id`, if they
    have a usable SMS contact (the answer can only come by SMS). Call it in the transaction
    that queues the message asking it."""
    if name not in _topics:
        raise KeyError(f"no handler registered for the SMS question topic {name!r}")
    contact = ContactPoint.objects.usable().filter(member=member, kind=Channel.SMS).first()
    if contact is None:
        return None
    return Question.objects.create(contact_index=contact.blind_index, topic=name,
                                   object_id=object_id,
                                   expires_at=timezone.now() + ttl)


def open_questions(sender: Sender) -> list[Question]:
    """What this phone was asked and has not answered, the most recent first."""
    return list(Question.objects.filter(
        contact_index=sender.index, answered_at__isnull=True, expires_at__gt=timezone.now(),
    ).order_by("-asked_at", "-id")[:10])


def answer(sender: Sender, language: str, text: str) -> str | None:
    """Offer the text to the questions this phone was asked; the reply of the first that
    takes it (its question is then answered), or None."""
    for question in open_questions(sender):
        handler = _topics.get(question.topic)
        if handler is None:
            continue
        reply = handler(sender, language, text, question)
        if reply:
            Question.objects.filter(pk=question.pk).update(answered_at=timezone.now())
            return reply
    return None


def close(name: str, object_id: int) -> int:
    """The question is settled another way (the request was covered, the vote closed): no
    answer is waited for any more."""
    return Question.objects.filter(topic=name, object_id=object_id,
                                   answered_at__isnull=True).update(answered_at=timezone.now())
