from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.members.models import Channel


class Kind(models.TextChoices):
    ALERT = "alert", _("Alert")
    ALL_CLEAR = "all_clear", _("All clear")
    CORRECTION = "correction", _("Correction")
    DISPATCH = "dispatch", _("Dispatch request")
    CONFIRMATION = "confirmation", _("Confirmation code")
    NOTICE = "notice", _("Notice")
    REMINDER = "reminder", _("Reminder")
    BROADCAST = "broadcast", _("Broadcast")


# Lower numbers go first: alerts before dispatch requests before reminders before broadcasts.
PRIORITY = {
    Kind.ALERT: 0, Kind.ALL_CLEAR: 0, Kind.CORRECTION: 0,
    Kind.DISPATCH: 10, Kind.CONFIRMATION: 10,
    Kind.REMINDER: 20,
    Kind.NOTICE: 30, Kind.BROADCAST: 30,
}


class Message(models.Model):
    """One logical outbound message, with its text in every language it is sent in."""

    kind = models.CharField(max_length=14, choices=Kind.choices)
    priority = models.SmallIntegerField(default=0)
    is_drill = models.BooleanField(default=False)
    # {"en": {"subject": "...", "text": "..."}, "es": {...}}
    bodies = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def body(self, language: str) -> dict[str, str]:
        if language in self.bodies:
            return self.bodies[language]
        return self.bodies.get("en") or next(iter(self.bodies.values()))


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown")
    DEAD = "dead", _("Gave up")
    SKIPPED = "skipped", _("Skipped (opted out)")


class Delivery(models.Model):
    """One message to one member on one channel: the source of truth for delivery."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries",
                                db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE,
                               related_name="deliveries")
    channel = models.CharField(max_length=10)
    language = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    priority = models.SmallIntegerField(default=0)
    rank = models.IntegerField(default=0)  # distance in rings: nearest first
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "member", "channel"],
                                    name="delivery_once_per_member_channel"),
            # A provider's message is one delivery's: a reconcile that guessed it for another
            # delivery loses to the send (or status callback) that names it (outbox.reconcile).
            models.UniqueConstraint(fields=["channel", "provider_id"],
                                    name="delivery_provider_id_once",
                                    condition=~models.Q(provider_id="")),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            # The claim reads queued rows in this order and stops after a batch: with the
            # index it does not sort a whole fan-out for every batch it takes.
            models.Index(fields=["priority", "rank", "id"], name="delivery_claim_order",
                         condition=models.Q(status="queued")),
        ]

    @property
    def channel_label(self) -> str:
        """The channel's name in the reader's language."""
        return str(Channel(self.channel).label) if self.channel in Channel.values else self.channel


class RateBucket(models.Model):
    """A token bucket shared by every worker process through the database, used when there is
    no Redis (rapidresponse.delivery.outbox.buckets): `tokens` as of `stamp` (Unix time)."""

    key = models.CharField(max_length=200, unique=True)
    tokens = models.FloatField()
    stamp = models.FloatField()
    granted = models.IntegerField(default=0)  # what the last take got (read back at once)


class ConsoleMessage(models.Model):
    """What the console backends 'sent': the message log and the demo phone view."""

    channel = models.CharField(max_length=10)
    member = models.ForeignKey("members.Member", null=True, on_delete=models.CASCADE,
                               related_name="console_messages")
    delivery = models.OneToOneField(Delivery, null=True, on_delete=models.SET_NULL,
                                    related_name="console_message")
    to_masked = models.CharField(max_length=100)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=8)
    is_drill = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def channel_label(self) -> str:
        """The channel's name in the reader's language."""
        return str(Channel(self.channel).label) if self.channel in Channel.values else self.channel
