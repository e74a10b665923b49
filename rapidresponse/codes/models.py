from __future__ import annotations

from django.db import models
from django.utils import timezone


class OneTimeCode(models.Model):
    """A one-time code sent to one destination for one purpose (joining, leaving, signing in
    to /me/; later a petition signature, an RSVP, a vote, a sealed pledge).

    Nothing here gives the code back to someone holding the database: `code_hash` is a keyed
    hash (BLIND_INDEX_KEY, salted with the public id), so six digits cannot be tried offline;
    the code itself is kept encrypted in `secret_encrypted` only until the message carrying it
    is handed to a provider (the message stores a mark in its place, delivery/sealing.py), then
    erased. The destination is kept as a blind index of its own (not a contact point's index):
    it counts the codes sent to one phone or email, and finds the code of someone who types
    their phone or email again, but cannot be joined with the contact points or read back.
    """

    # What a page shows and a form posts: random, so codes cannot be enumerated.
    public_id = models.CharField(max_length=32, unique=True)
    purpose = models.CharField(max_length=32)
    # How it is sent: sms, email or signal.
    channel = models.CharField(max_length=10)
    destination_index = models.CharField(max_length=64)
    # A member's contact point, today always; a destination that is no member's has neither.
    member = models.ForeignKey("members.Member", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("members.ContactPoint", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("delivery.Message", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    code_hash = models.CharField(max_length=64)
    secret_encrypted = models.TextField(blank=True)
    # What the purpose needs once the code is confirmed (JSON, encrypted); erased when used.
    payload_encrypted = models.TextField(blank=True)
    # Recorded (the page answers the same) but not sent: over the destination's hourly limit,
    # over the network's hourly budget of code SMS, or to a country outside PHONE_COUNTRIES.
    throttled = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # When it was used, or replaced by a newer code: it works no more.
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["destination_index", "created_at"], name="code_destination"),
            models.Index(fields=["expires_at"], name="code_expiry"),
            # The network's hourly budget of code SMS counts by these.
            models.Index(fields=["channel", "created_at"], name="code_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code {self.pk}"
