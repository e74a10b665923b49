"""The reminder job, the retention rules and the privacy manifest of family support
(registered with rapidresponse.jobs when the app is ready)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rapidresponse.delivery import outbox
from rapidresponse.jobs.registry import not_personal, periodic, personal_data, retention
from rapidresponse.jobs.retention import deleted
from rapidresponse.members.models import language_codes
from rapidresponse.support.models import CaseStatus, Detention, SupportCase


def reminder_bodies(case: SupportCase) -> dict[str, dict[str, str]]:
    """The number of the case and a link: nothing about the family."""
    url = settings.PUBLIC_URL + reverse("support_case", args=[case.pk])
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            subject = gettext("Support case #%(id)s needs a follow-up today") % {"id": case.pk}
            bodies[lang] = {"subject": subject, "text": f"{subject}: {url}"}
    return bodies


@periodic("support_reminders", every_s=300)
def send_reminders() -> int:
    """The assigned volunteer of each case whose follow-up day has come gets one message
    for that day (SMS, email... on their channels, through the outbox). A case claimed by
    another worker first is skipped: each date is reminded once."""
    today = timezone.localdate()
    due = (SupportCase.objects.exclude(status=CaseStatus.CLOSED)
           .filter(follow_up_on__lte=today, assigned__member__isnull=False)
           .select_related("assigned__member"))
    sent = 0
    for case in due:
        if case.reminded_for == case.follow_up_on:
            continue
        with transaction.atomic():
            claimed = SupportCase.objects.filter(
                pk=case.pk, follow_up_on=case.follow_up_on,
                reminded_for=case.reminded_for).update(reminded_for=case.follow_up_on)
            if not claimed:
                continue
            assert case.assigned is not None and case.assigned.member is not None
            outbox.send_to_member(case.assigned.member, "reminder", reminder_bodies(case))
            sent += 1
    return sent


@retention("closed_support_cases", model="support.SupportCase",
           rule=_("a closed support case, its needs, notes and the family's contact, deleted "
                  "RETENTION_SUPPORT_CASE_DAYS after it was closed; an open case goes with "
                  "its incident at the latest"))
def closed_cases(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_SUPPORT_CASE_DAYS)
    return deleted(SupportCase.objects.filter(status=CaseStatus.CLOSED,
                                              closed_at__lt=cutoff))


@retention("detention_notes", model="support.Detention",
           rule=_("a detention's notes erased after RETENTION_INCIDENT_DETAILS_DAYS (the count "
                  "and the time stay); the detention is deleted with its incident"))
def detention_notes(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_INCIDENT_DETAILS_DAYS)
    return (Detention.objects.filter(created_at__lt=cutoff).exclude(notes_encrypted="")
            .update(notes_encrypted=""))


personal_data(
    "support.Detention", fields=("people", "detained_at", "notes_encrypted", "recorded_by"),
    category="support",
    purpose=_("that people were detained at an incident, to support their families"),
    protection=_("no names; notes encrypted (Fernet)"),
    retention=("incidents", "detention_notes"), encrypted=("notes_encrypted",))
personal_data(
    "support.SupportCase",
    fields=("language", "needs", "consent_by", "consent_at", "assigned",
            "contact_encrypted", "follow_up_on"),
    category="support",
    purpose=_("connecting a detained person's family, with their consent, with legal aid, "
              "bond funds and other help"),
    protection=_("the family's phone encrypted (Fernet); no names; seen by family-support "
                 "volunteers and coordinators of the zone only"),
    retention=("closed_support_cases", "incidents"), encrypted=("contact_encrypted",))
personal_data(
    "support.CaseNote", fields=("author", "text_encrypted"), category="support",
    purpose=_("what was done for a family, for whoever takes the case next"),
    protection=_("encrypted (Fernet); never edited"),
    retention=("closed_support_cases", "incidents"), encrypted=("text_encrypted",))
not_personal(
    "support.Partner", fields=("name", "phone"),
    why=_("a partner organisation's name and public phone number: an organisation, not a "
          "person"))
