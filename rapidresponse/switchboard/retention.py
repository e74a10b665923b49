"""The switchboard's retention rules and privacy manifest entries (enforced by
rapidresponse.jobs).

Twilio keeps a call's recording until someone deletes it: we ask Twilio to delete it when a
dispatcher files or dismisses the voicemail, and again here for any that could not be deleted
then, before the voicemail itself goes (SECURITY.md)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapidresponse.jobs.registry import personal_data, retention
from rapidresponse.jobs.retention import deleted
from rapidresponse.lib import http
from rapidresponse.switchboard import recordings
from rapidresponse.switchboard.models import Offer, Voicemail, VoicemailStatus

#: How long one run may spend asking Twilio to delete recordings (the rest: next hour).
TWILIO_BUDGET_S = 30


def _forget_recordings(voicemails: list[Voicemail]) -> int:
    gone = 0
    with http.deadline(time.monotonic() + TWILIO_BUDGET_S):
        for voicemail in voicemails:
            if recordings.delete(voicemail.recording_url):
                Voicemail.objects.filter(pk=voicemail.pk).update(recording_url_encrypted="")
                gone += 1
    return gone


@retention("voicemails", model="switchboard.Voicemail",
           rule=_("the recording of a voicemail filed or dismissed is deleted at Twilio; "
                  "voicemails (the caller's number and the recording) are deleted "
                  "RETENTION_VOICEMAIL_DAYS after they were left, their recording at Twilio "
                  "first"))
def voicemails(now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=settings.RETENTION_VOICEMAIL_DAYS)
    handled = list(Voicemail.objects.exclude(status=VoicemailStatus.WAITING)
                   .exclude(recording_url_encrypted="")[:200])
    old = list(Voicemail.objects.filter(created_at__lt=cutoff)
               .exclude(recording_url_encrypted="")[:200])
    recordings_gone = _forget_recordings(list({v.pk: v for v in handled + old}.values()))
    # A recording Twilio could not be asked to delete stays listed (with its link) until it
    # can: deleting our row would lose the only way to reach it.
    return {"voicemail_recordings_deleted": recordings_gone,
            "voicemails": deleted(Voicemail.objects.filter(created_at__lt=cutoff,
                                                           recording_url_encrypted=""))}


@retention("routing_offers", model="switchboard.Offer",
           rule=_("offers of new work to dispatchers (who was asked, who took it) deleted "
                  "RETENTION_ROUTING_DAYS after they were made"))
def routing_offers(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_ROUTING_DAYS)
    return deleted(Offer.objects.filter(offered_at__lt=cutoff))


personal_data(
    "switchboard.Voicemail",
    fields=("call_sid", "caller_encrypted", "caller_index", "recording_url_encrypted",
            "duration", "handled_by"),
    category="reports",
    purpose=_("a message left on the hotline when no dispatcher could answer, until a "
              "dispatcher files it as a report or dismisses it"),
    protection=_("the caller's number and the recording's link encrypted (Fernet); the number "
                 "found by a keyed hash under the reporters' own key; the recording itself "
                 "stays at Twilio, played through a staff-only view and deleted there once "
                 "dealt with"),
    retention=("voicemails",), encrypted=("caller_encrypted", "recording_url_encrypted"))
personal_data(
    "switchboard.Offer", fields=("claimed_by",), category="staff",
    purpose=_("who was offered new work on shift, and who took it"), protection=_("plain"),
    retention=("routing_offers",), dated_by="offered_at")
