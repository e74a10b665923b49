from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Alert(models.Model):
    """A verified alert, or the all-clear or correction that follows one. It belongs to the
    incident that raised it (an app above this one, named but never imported)."""

    class Kind(models.TextChoices):
        ALERT = "alert", _("Alert")
        ALL_CLEAR = "all_clear", _("All clear")
        CORRECTION = "correction", _("Correction")

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE,
                                 related_name="alerts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    original = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="follow_ups")
    message = models.OneToOneField("delivery.Message", on_delete=models.PROTECT,
                                   related_name="alert")
    is_drill = models.BooleanField(default=False)
    # What was seen and by whom, as the alert said it (vocabulary.Activity and .Agency).
    activity = models.CharField(max_length=12, blank=True)
    agency = models.CharField(max_length=10, blank=True)
    center_cell = models.BigIntegerField()  # resolution 8
    rings = models.PositiveSmallIntegerField()
    radius_m = models.PositiveIntegerField()
    area_name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    recipient_count = models.PositiveIntegerField(default=0)
    # The fan-out (alerts/fanout.py), nearest first: the deliveries of every recipient whose
    # nearest watch area is at most `expanded_to` rings away are written; it goes on to
    # `expand_to` (the farthest cell), unless a follow-up stops it where it is.
    expanded_to = models.SmallIntegerField(default=-1)
    expand_to = models.SmallIntegerField(default=-1)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def expanding(self) -> bool:
        """The fan-out is still writing deliveries (farther recipients are still to come)."""
        return self.expanded_to < self.expand_to


class AlertCell(models.Model):
    """Cells around an alert with their distance in rings, used to find recipients."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="cells",
                              db_index=False)
    cell = models.BigIntegerField()
    distance = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "cell"], name="alert_cell_unique")]
        indexes = [
            # The fan-out reads an alert's cells one range of distances at a time.
            models.Index(fields=["alert", "distance", "cell"], name="alert_cell_by_distance"),
        ]
