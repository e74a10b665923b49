from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.alerts.vocabulary import Activity, Agency


class Source(models.TextChoices):
    WEB = "web", _("Web form")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone call")
    API = "api", _("API")


class State(models.TextChoices):
    REPORTED = "reported", _("Reported")
    VERIFYING = "verifying", _("Verifying")
    CONFIRMED = "confirmed", _("Confirmed")
    NOT_ICE = "not_ice", _("Not immigration enforcement")
    FALSE_ALARM = "false_alarm", _("False alarm")
    UNVERIFIABLE = "unverifiable", _("Could not be verified")
    RESOLVED = "resolved", _("Resolved")
    EXPIRED = "expired", _("Expired")


# What each audit action of an incident is called on the incident's timeline.
AUDIT_ACTIONS = {
    "incident.created": _("Incident created"),
    "report.added": _("Report added"),
    "incident.verification_requested": _("Verification requested"),
    "incident.verifier_going": _("Verifier on the way"),
    "incident.verification_recorded": _("Finding recorded"),
    "incident.confirmed": _("Confirmed"),
    "incident.not_ice": _("Not immigration enforcement"),
    "incident.false_alarm": _("False alarm"),
    "incident.unverifiable": _("Could not be verified"),
    "incident.resolved": _("Resolved: all-clear sent"),
    "incident.corrected": _("Correction sent"),
    "incident.place_edited": _("Cross streets edited"),
    "incident.verifiers_stood_down": _("Other verifiers stood down"),
    "incident.expired": _("Expired"),
    "incident.held": _("Held for review: a surge of reports"),
}

OPEN_STATES = (State.REPORTED, State.VERIFYING, State.CONFIRMED)
UNVERIFIED_STATES = (State.REPORTED, State.VERIFYING)


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed: immigration enforcement")
    NOT_ICE = "not_ice", _("Not immigration enforcement")
    FALSE_ALARM = "false_alarm", _("False alarm: nothing there")
    UNVERIFIABLE = "unverifiable", _("Could not verify")


class Incident(models.Model):
    state = models.CharField(max_length=16, choices=State.choices, default=State.REPORTED)
    is_drill = models.BooleanField(default=False)
    cell = models.BigIntegerField(db_index=True)  # resolution 9
    zone = models.ForeignKey("zones.Zone", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    # Cross streets checked and typed by staff: the only place text that can reach an alert.
    cross_streets = models.CharField(max_length=120, blank=True)
    activity = models.CharField(max_length=12, choices=Activity.choices)
    agency = models.CharField(max_length=10, choices=Agency.choices)
    first_seen_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_report_at = models.DateTimeField(db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # A report came in during a surge (surge.py): the incident waits in the review queue, and
    # a verification request asks only SURGE_VERIFIERS_PER_REQUEST verifiers.
    held = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["state", "last_report_at"])]

    def __str__(self) -> str:
        return f"Incident {self.pk}"


class Report(models.Model):
    """One account of activity (SALUTE). Free text here never reaches a public alert."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reports")
    source = models.CharField(max_length=8, choices=Source.choices)
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    # S: how many agents; A: what they are doing; L: where; U: agency/markings;
    # T: when it was seen; E: vehicles and equipment.
    size = models.PositiveSmallIntegerField(null=True, blank=True)
    activity = models.CharField(max_length=12, choices=Activity.choices)
    cell = models.BigIntegerField()  # resolution 9; the exact spot is not kept
    location_text = models.CharField(max_length=200, blank=True)
    agency = models.CharField(max_length=10, choices=Agency.choices)
    uniform_text = models.CharField(max_length=200, blank=True)
    observed_at = models.DateTimeField()
    vehicles = models.PositiveSmallIntegerField(null=True, blank=True)
    equipment_text = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    contact_encrypted = models.TextField(blank=True)
    # Distinguishes independent reporters without identifying them (a keyed hash of the
    # reporter's contact or of a random browser token; never an IP address).
    reporter_key = models.CharField(max_length=64, blank=True)
    # The client's network (its IPv6 /64 or IPv4 /24) as a keyed hash whose key changes every
    # day (surge.network_key): reports from one network on one day count as one reporter. The
    # address itself is never stored. Empty for texts, calls and staff.
    network_key = models.CharField(max_length=64, blank=True)
    # Arrived during a surge: held for review with its incident.
    held = models.BooleanField(default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    is_drill = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at"], name="report_created"),
                   models.Index(fields=["cell", "created_at"], name="report_cell_created")]


class Surge(models.Model):
    """Far more reports than usual around one place (a resolution-8 cell and its neighbours)
    or in the whole network (`cell` null). While it lasts, new reports there are held for
    review (surge.py); the on-call dispatchers are told once."""

    cell = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    # The last time the rate was over the threshold: the surge lasts SURGE_HOLD_MINUTES more.
    last_over_at = models.DateTimeField(db_index=True)
    # Reports in 10 minutes at the highest, and reports held.
    peak = models.PositiveIntegerField(default=0)
    held_reports = models.PositiveIntegerField(default=0)
    # When the on-call dispatchers were sent a text about it (once per surge).
    notified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Surge {self.pk}"


class VerificationRequest(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE,
                                 related_name="verification_requests")
    verifier = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey("delivery.Message", null=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # When the verifier answered YES (by SMS): they are on their way.
    accepted_at = models.DateTimeField(null=True, blank=True)


class Verification(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE,
                                 related_name="verifications")
    verifier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "verifier"],
                                               name="one_verification_per_verifier")]
