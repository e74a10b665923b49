"""The hotline number's side of dispatch, registered with the SMS channel when this app is
ready: the answer to a dispatch or witness request (YES / SÍ, NO), and the commands of
someone who is going (HERE / LLEGUÉ when they arrive, DONE / LISTO when they leave)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rapidresponse.accounts.models import Staff
from rapidresponse.channels.sms.keywords import Keyword, fold, keyword_of
from rapidresponse.channels.sms.models import Question
from rapidresponse.channels.sms.threads import Sender
from rapidresponse.dispatch import actions, messages, witnesses
from rapidresponse.dispatch.models import (
    Assignment,
    AssignmentStatus,
    Dispatch,
    WitnessAnswer,
)

NO_WORDS = {"no", "nope", "no puedo", "cant", "can t", "cannot"}


def yes_or_no(text: str) -> bool | None:
    if keyword_of(text)[0] == Keyword.YES:
        return True
    if fold(text) in NO_WORDS:
        return False
    return None


def dispatch_answers(sender: Sender, language: str, text: str,
                     question: Question) -> str | None:
    """YES or NO to a dispatch request (the question's object is the assignment)."""
    answer = yes_or_no(text)
    assignment = (Assignment.objects.filter(pk=question.object_id)
                  .select_related("dispatch__incident").first())
    if answer is None or assignment is None:
        return None
    with translation.override(language):
        try:
            if not answer:
                actions.do_decline(assignment, "sms")
                return _("Thank you: we will ask someone else.")
            done = actions.do_accept(assignment, "sms")
        except actions.NotNow as exc:
            return str(exc)
        if done.status == AssignmentStatus.COVERED:
            return _("Enough people are going already: you are not needed. Thank you.")
        return messages.assigned_reply(assignment.dispatch.incident, assignment.dispatch_id)


def witness_answers(sender: Sender, language: str, text: str,
                    question: Question) -> str | None:
    """YES (coming) or NO to a witness request (the question's object is the answer row)."""
    answer = yes_or_no(text)
    found = WitnessAnswer.objects.filter(pk=question.object_id).first()
    if answer is None or found is None:
        return None
    with translation.override(language):
        try:
            witnesses.do_witness_answer(found, answer)
        except actions.NotNow as exc:
            return str(exc)
        if answer:
            return _("Thank you for coming. Observe and record from a distance; never "
                     "obstruct. We will text you when it is over.")
        return _("Thank you for answering.")


def _latest(sender: Sender, status: str) -> Assignment | None:
    """The sender's most recent assignment in this status (None: not someone we sent)."""
    member = sender.member
    if member is None:
        return None
    staff = Staff.objects.filter(member=member, user__is_active=True).first()
    if staff is None:
        return None
    return (Assignment.objects.filter(staff=staff, status=status)
            .exclude(dispatch__status=Dispatch.Status.CLOSED, status=AssignmentStatus.ACCEPTED)
            .order_by("-answered_at", "-id").first())


def _is_staff(sender: Sender) -> bool:
    return sender.member is not None and Staff.objects.filter(member=sender.member).exists()


def _command(status: str, act: Callable[[Assignment, str], Assignment], done: str,
             nothing: str) -> Callable[[Sender, str, str], str | None]:
    def handle(sender: Sender, language: str, text: str) -> str | None:
        if not _is_staff(sender):
            return None  # not one of ours: the text goes on to the conversation
        with translation.override(language):
            assignment = _latest(sender, status)
            if assignment is None:
                return _(nothing)
            try:
                act(assignment, "sms")
            except actions.NotNow as exc:
                return str(exc)
            return _(done) % {"id": assignment.dispatch_id}
    return handle


# The texts are marked for translation here and translated when the reply is made.
arrived = _command(AssignmentStatus.ACCEPTED, actions.do_check_in,
                   gettext_noop("Checked in (#%(id)s). Stay safe; text DONE when you leave."),
                   gettext_noop("You have no dispatch to check in to."))
left = _command(AssignmentStatus.CHECKED_IN, actions.do_check_out,
                gettext_noop("Checked out (#%(id)s). Thank you."),
                gettext_noop("You have no dispatch to check out of."))
