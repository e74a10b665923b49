"""What the SMS channel keeps: received message SIDs (to process a retried webhook once),
conversations with phone numbers, and Twilio's delivery receipts.

No phone number is stored in clear: a thread is found by the number's blind index and keeps
the number encrypted only to reply (erased on opt-out). Retention: see retention.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.lib import crypto


class InboundSms(models.Model):
    """One received SMS, by Twilio's MessageSid: a retried webhook finds it and gets the same
    answer without being processed again. Holds no number and no text of the sender."""

    message_sid = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The reply given (a fixed prompt or confirmation), repeated to a retry.
    reply = models.TextField(blank=True)


class ThreadState(models.TextChoices):
    IDLE = "idle", _("No conversation")
    WHERE = "where", _("Asked where")
    WHAT = "what", _("Asked what was seen")
    UNPLACED = "unplaced", _("Waiting for a dispatcher to find the place")


class SmsThread(models.Model):
    """Everything said with one phone number: SMS reports and the dispatchers' replies."""

    blind_index = models.CharField(max_length=64, unique=True)
    # Kept only to reply; erased when the number opts out and by retention.
    number_encrypted = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="en")
    state = models.CharField(max_length=10, choices=ThreadState.choices,
                             default=ThreadState.IDLE)
    # The report being put together (free text: it never reaches an alert).
    draft_text = models.TextField(blank=True)
    draft_place = models.CharField(max_length=200, blank=True)
    draft_zone = models.ForeignKey("zones.Zone", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    draft_tries = models.PositiveSmallIntegerField(default=0)
    draft_started_at = models.DateTimeField(null=True, blank=True)
    report = models.ForeignKey("incidents.Report", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["state", "updated_at"], name="sms_thread_state")]

    def __str__(self) -> str:
        return f"SMS thread {self.pk}"

    @property
    def number(self) -> str:
        return crypto.decrypt(self.number_encrypted) if self.number_encrypted else ""

    @property
    def masked(self) -> str:
        number = self.number
        return f"***{number[-4:]}" if number else "***"


class SmsThreadMessage(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("Received")
        OUT = "out", _("Sent")

    thread = models.ForeignKey(SmsThread, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # A dispatcher's reply: who wrote it and the outbox message that carries it.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey("delivery.Message", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    # The report this message completed.
    report = models.ForeignKey("incidents.Report", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]


class DeliveryReceipt(models.Model):
    """Twilio's latest word on one delivery, from the status callback."""

    delivery = models.OneToOneField("delivery.Delivery", primary_key=True,
                                    on_delete=models.CASCADE, related_name="sms_receipt")
    message_sid = models.CharField(max_length=64)
    status = models.CharField(max_length=20)
    error_code = models.IntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class Question(models.Model):
    """Something the system asked a phone by SMS and is waiting for an answer to: a request
    to verify or to go to an incident, an RSVP, a vote, a step of joining by text. The next
    text from that phone goes first to the app that asked (channels.sms.questions), until it
    is answered or expires. Found by the blind index of the member's SMS contact."""

    contact_index = models.CharField(max_length=64)
    topic = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    asked_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contact_index", "asked_at"], name="sms_question_open")]
