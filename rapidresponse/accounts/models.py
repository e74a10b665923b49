from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.accounts import labels


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    DISPATCHER = "dispatcher", _("Dispatcher")
    VERIFIER = "verifier", _("Verifier")
    RESPONDER = "responder", _("Responder")


class Staff(models.Model):
    """A person who works the network: the role decides what they may do."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    on_call = models.BooleanField(default=False)
    # How the network reaches this person (dispatch requests go through the outbox).
    member = models.OneToOneField("members.Member", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="staff")
    # The zones this person works in, with every zone inside them (a region holds its
    # neighbourhoods). None, and not network-wide: this person sees no incident, member or
    # message at all (accounts/access.py).
    zones = models.ManyToManyField("zones.Zone", blank=True, related_name="staff")
    # Works in every zone, and on what lies outside every zone (an incident reported where
    # the network has no zone). For the few who run the whole network.
    network_wide = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return f"{self.user.username} ({self.role})"


class ApiToken(models.Model):
    """Bearer tokens for the API. Only a hash of the token is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)


class AuditEntry(models.Model):
    """Who did what, when: every state change of an incident and every staff action."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    @property
    def action_label(self) -> str:
        """The action in the reader's language (the code itself when it has no name)."""
        return labels.action_label(self.action)

    @property
    def from_state_label(self) -> str:
        return labels.state_label(self.object_type, self.from_state)

    @property
    def to_state_label(self) -> str:
        return labels.state_label(self.object_type, self.to_state)
