"""Block committees: a neighbourhood group of members with an area (H3 cells of its zone),
languages, roles, and a versioned response plan (what the block does if ICE shows up).

Nothing here is an address: the meeting point is a public landmark, the people a plan names
are first names or nicknames the block agreed on, and the area is coarse cells."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


class Role(models.TextChoices):
    CONTACT = "contact", _("Contact")
    CAPTAIN = "captain", _("Captain")
    MEMBER = "member", _("Member")


class Committee(models.Model):
    name = models.CharField(max_length=100)
    zone = models.ForeignKey("zones.Zone", on_delete=models.CASCADE, related_name="+")
    # Six letters: in the public page's link (/c/<code>/) and in the SMS `JOIN <code>`.
    code = models.CharField(max_length=12, unique=True, default=new_code)
    languages = models.JSONField(default=list, blank=True)  # settings.LANGUAGES codes
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CommitteeCell(models.Model):
    """One resolution-8 cell of a committee's area (a cell of its zone)."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="cells")
    cell = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["committee", "cell"],
                                               name="committee_cell_unique")]


class CommitteeMember(models.Model):
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE,
                                  related_name="memberships")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["committee", "member"],
                                               name="committee_member_unique")]


class PlanVersion(models.Model):
    """One saved version of a committee's response plan: never edited, a save adds one.
    The newest is the current plan."""

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="plans")
    number = models.PositiveIntegerField()
    hotline_caller = models.CharField(max_length=200, blank=True)
    meeting_point = models.CharField(max_length=200, blank=True)
    observers = models.CharField(max_length=300, blank=True)
    neighbour_checks = models.TextField(blank=True)
    pickup_backups = models.TextField(blank=True)
    phone_tree = models.JSONField(default=list, blank=True)  # first names, in order
    materials = models.TextField(blank=True)
    material_languages = models.JSONField(default=list, blank=True)
    author = models.ForeignKey("accounts.Staff", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["committee", "number"],
                                               name="plan_version_unique")]


AUDIT_ACTIONS = {
    "committee.created": _("Committee created"),
    "committee.area": _("Committee area set"),
    "committee.member": _("Committee member added"),
    "committee.plan": _("Response plan saved"),
    "committee.plan_sent": _("Response plan sent"),
}
