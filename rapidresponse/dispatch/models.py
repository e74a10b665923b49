"""Dispatch: responders asked to go to an incident, and members who offered to witness.

A dispatch asks for `count` people with a skill. Its life:

    open --the first `count` YES answers--> filled   (the others asked: covered)
    open --a round had too few YES for DISPATCH_WIDEN_AFTER_MINUTES--> open, wider radius
    open --widest radius reached, nobody new to ask--> exhausted  (the dispatcher is told)
    open | filled | exhausted --the incident is over--> closed    (everyone is stood down)

Each person asked has one assignment:

    asked --YES--> accepted --HERE / LLEGUÉ--> checked_in --DONE / LISTO--> checked_out
    asked --NO--> declined
    asked --someone else filled it, or the incident ended--> covered

A witness request asks members who opted in ("I can come and witness peacefully") near a
confirmed incident; each answers YES (coming) or NO, and all who said YES hear when it is
over. Places are never stored here: the incident's cell and the responders' coarse home
cells are where distances come from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.responders.models import Skill


class Dispatch(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Asking")
        FILLED = "filled", _("Filled")
        EXHAUSTED = "exhausted", _("Nobody left to ask")
        CLOSED = "closed", _("Closed")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE,
                                 related_name="dispatches")
    skill = models.CharField(max_length=20, choices=Skill.choices)
    count = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # How far the request reaches now, in rings of resolution-8 cells around the place.
    rings = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # When the last round of people was asked (the widening job counts from here).
    round_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "round_at"])]

    def __str__(self) -> str:
        return f"dispatch {self.pk}"


class AssignmentStatus(models.TextChoices):
    ASKED = "asked", _("Asked")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COVERED = "covered", _("Covered by others")
    CHECKED_IN = "checked_in", _("Checked in")
    CHECKED_OUT = "checked_out", _("Checked out")


class Assignment(models.Model):
    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="assignments")
    staff = models.ForeignKey("accounts.Staff", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.ASKED)
    # Rings of resolution-8 cells between their home cell and the place (None: unknown).
    distance = models.PositiveSmallIntegerField(null=True, blank=True)
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["dispatch", "staff"],
                                               name="one_assignment_per_person")]


class WitnessRequest(models.Model):
    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE,
                                 related_name="witness_requests")
    radius_m = models.PositiveIntegerField()
    cap = models.PositiveSmallIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    stood_down_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class WitnessStatus(models.TextChoices):
    ASKED = "asked", _("Asked")
    COMING = "coming", _("Coming")
    DECLINED = "declined", _("Not coming")
    STOOD_DOWN = "stood_down", _("Stood down")


class WitnessAnswer(models.Model):
    request = models.ForeignKey(WitnessRequest, on_delete=models.CASCADE,
                                related_name="answers")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=WitnessStatus.choices,
                              default=WitnessStatus.ASKED)
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["request", "member"],
                                               name="one_witness_answer_per_member")]


# What each audit action of this app is called on the incident's timeline.
AUDIT_ACTIONS = {
    "dispatch.requested": _("Dispatch requested"),
    "dispatch.asked": _("Responders asked to go"),
    "dispatch.widened": _("Dispatch widened"),
    "dispatch.accepted": _("Responder accepted"),
    "dispatch.declined": _("Responder declined"),
    "dispatch.filled": _("Dispatch filled"),
    "dispatch.nobody_left": _("Dispatch: nobody left to ask"),
    "dispatch.checked_in": _("Responder checked in"),
    "dispatch.checked_out": _("Responder checked out"),
    "dispatch.closed": _("Dispatch closed"),
    "witness.requested": _("Witnesses asked"),
    "witness.coming": _("Witness coming"),
    "witness.declined": _("Witness not coming"),
    "witness.stood_down": _("Witnesses stood down"),
}
