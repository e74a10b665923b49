"""The switchboard: the hotline's voicemails, and offers of new work to the dispatchers on
shift.

A voicemail holds no number in clear: the caller's number is encrypted (Fernet) with a keyed
hash under REPORTER_INDEX_KEY (the same index an SMS conversation with that number has, so a
dispatcher can tell it is the same caller; a seized database cannot join it with the members'
contacts). The recording stays at Twilio; we keep its link, encrypted, and play it through a
staff-only view. Retention: retention.py.

An offer is one piece of work (a new incident, or an SMS conversation waiting for a
dispatcher) offered to the people on shift for its zone, one row per stage: primary, then
backup, then coordinator, each at most once; the first person to take it claims it for all
stages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.lib import crypto


class VoicemailStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    FILED = "filed", _("Filed as a report")
    DISMISSED = "dismissed", _("Dismissed")


class Voicemail(models.Model):
    # Twilio's CallSid: a retried webhook stores the message once.
    call_sid = models.CharField(max_length=64, unique=True)
    caller_encrypted = models.TextField(blank=True)
    caller_index = models.CharField(max_length=64, blank=True, db_index=True)
    # Erased once Twilio has been asked to delete the recording.
    recording_url_encrypted = models.TextField(blank=True)
    duration = models.PositiveIntegerField(default=0)  # seconds
    status = models.CharField(max_length=10, choices=VoicemailStatus.choices,
                              default=VoicemailStatus.WAITING)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    report = models.ForeignKey("incidents.Report", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="voicemail_waiting")]

    def __str__(self) -> str:
        return f"voicemail {self.pk}"

    @property
    def caller(self) -> str:
        return crypto.decrypt(self.caller_encrypted) if self.caller_encrypted else ""

    @property
    def masked(self) -> str:
        number = self.caller
        return f"***{number[-4:]}" if number else "***"

    @property
    def recording_url(self) -> str:
        return (crypto.decrypt(self.recording_url_encrypted)
                if self.recording_url_encrypted else "")


class OfferKind(models.TextChoices):
    INCIDENT = "incident", _("New report")
    THREAD = "thread", _("SMS conversation")


class OfferStage(models.TextChoices):
    PRIMARY = "primary", _("On shift")
    BACKUP = "backup", _("Backup")
    COORDINATOR = "coordinator", _("Coordinator")


class Offer(models.Model):
    """One stage of offering one piece of work: who was asked is in `offered_to`."""

    kind = models.CharField(max_length=10, choices=OfferKind.choices)
    object_id = models.BigIntegerField()
    zone = models.ForeignKey("zones.Zone", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    stage = models.CharField(max_length=12, choices=OfferStage.choices)
    is_drill = models.BooleanField(default=False)
    offered_to = models.ManyToManyField("accounts.Staff", blank=True, related_name="+")
    offered_at = models.DateTimeField(db_index=True)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["offered_at", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "object_id", "stage"],
                                               name="offer_stage_once")]
        indexes = [models.Index(fields=["kind", "object_id"], name="offer_object")]


AUDIT_ACTIONS = {
    "voicemail.filed": _("Voicemail filed as a report"),
    "voicemail.dismissed": _("Voicemail dismissed"),
    "offer.claimed": _("Taken by a dispatcher"),
}
