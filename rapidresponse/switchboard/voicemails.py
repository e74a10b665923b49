"""Voicemails left on the hotline: stored when Twilio reports a recording, then filed as a
report by a dispatcher (who types in the place they heard) or dismissed. Either way Twilio
is asked to delete the recording once the action is committed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.incidents.actions import build_report_input, do_submit_report
from rapidresponse.incidents.models import Report, Source
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.contacts import normalise_phone, reporter_index_for
from rapidresponse.members.models import Channel
from rapidresponse.switchboard import recordings
from rapidresponse.switchboard.models import Voicemail, VoicemailStatus

Actor = User | AnonymousUser | None

MAX_SECONDS = 24 * 3600


def caller_number(raw: str) -> str:
    """E.164 when it is a phone number; "" for a withheld or unknown caller."""
    try:
        return normalise_phone(raw)
    except ValidationError:
        return ""


@transaction.atomic
def do_store_voicemail(call_sid: str, caller: str, recording_url: str,
                       duration: Any) -> Voicemail | None:
    """Keep a message left on the hotline (once per call). None when there is nothing to keep
    (no recording, or one we could never play)."""
    if not call_sid or not recordings.sid_of(recording_url):
        return None
    try:
        seconds = max(0, min(int(str(duration or 0)), MAX_SECONDS))
    except ValueError:
        seconds = 0
    number = caller_number(caller)
    voicemail, _created = Voicemail.objects.get_or_create(
        call_sid=call_sid[:64],
        defaults={"caller_encrypted": crypto.encrypt(number) if number else "",
                  "caller_index": reporter_index_for(Channel.SMS, number) if number else "",
                  "recording_url_encrypted": crypto.encrypt(recording_url),
                  "duration": seconds})
    return voicemail


def forget_recording(voicemail_id: int) -> None:
    """Ask Twilio to delete the recording; once it is gone, erase our link to it."""
    voicemail = Voicemail.objects.filter(pk=voicemail_id).first()
    if voicemail is None or not voicemail.recording_url_encrypted:
        return
    if recordings.delete(voicemail.recording_url):
        Voicemail.objects.filter(pk=voicemail_id).update(recording_url_encrypted="")


def _handled(voicemail: Voicemail, status: str, actor: Actor) -> Voicemail:
    locked = Voicemail.objects.select_for_update().get(pk=voicemail.pk)
    if locked.status != VoicemailStatus.WAITING:
        raise InvalidInput({"voicemail": _("This voicemail has already been dealt with.")})
    locked.status = status
    locked.handled_at = timezone.now()
    locked.handled_by = actor if isinstance(actor, User) else None
    locked.save(update_fields=["status", "handled_at", "handled_by"])
    transaction.on_commit(lambda: forget_recording(locked.pk), robust=True)
    return locked


@transaction.atomic
def do_dismiss_voicemail(voicemail: Voicemail, actor: Actor) -> None:
    _handled(voicemail, VoicemailStatus.DISMISSED, actor)
    audit.record(actor, "voicemail.dismissed", voicemail)


@transaction.atomic
def do_file_voicemail(voicemail: Voicemail, data: dict[str, Any], actor: Actor) -> Report:
    """A report in the queue from what the dispatcher heard (source: phone), with the
    caller's number as the reporter's contact unless the dispatcher typed another."""
    contact = str(data.get("contact") or "").strip() or voicemail.caller
    report_input = build_report_input({**data, "contact": contact})
    locked = _handled(voicemail, VoicemailStatus.FILED, actor)
    report = do_submit_report(report_input, source=Source.PHONE, actor=actor)
    Voicemail.objects.filter(pk=locked.pk).update(report=report)
    audit.record(actor, "voicemail.filed", voicemail, report_id=report.pk)
    return report
