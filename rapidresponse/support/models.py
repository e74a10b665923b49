"""Family support: a detention recorded on an incident and, with the family's consent, a
support case that connects the family with partner organisations until it is closed.

Nobody is named: a detention is a count of people and a time. Nothing says anyone's
immigration status or nationality (the privacy manifest refuses such fields). Free text
(the detention's notes, the case's notes, the family's phone) is encrypted at rest
(lib.crypto, Fernet). Partner organisations are organisations, not people: their public
phone and web address are plain."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Need(models.TextChoices):
    LEGAL = "legal", _("Legal representation")
    BOND = "bond", _("Bond")
    CHILDCARE = "childcare", _("Childcare")
    RENT_FOOD = "rent_food", _("Rent and food")
    TRANSPORT = "transport", _("Transport")
    EMOTIONAL = "emotional", _("Emotional support")


class NeedState(models.TextChoices):
    OPEN = "open", _("Open")
    MET = "met", _("Met")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting")
    CLOSED = "closed", _("Closed")


class Detention(models.Model):
    """Someone (how many people, no names) was detained at an incident."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE,
                                 related_name="+")
    people = models.PositiveSmallIntegerField(default=1)
    detained_at = models.DateTimeField()
    notes_encrypted = models.TextField(blank=True)
    recorded_by = models.ForeignKey("accounts.Staff", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["detained_at", "id"]


class SupportCase(models.Model):
    """The support a family gets after a detention, opened with their consent."""

    detention = models.OneToOneField(Detention, on_delete=models.CASCADE,
                                     related_name="case")
    # The incident's zone when the case opened: who may see the case.
    zone = models.ForeignKey("zones.Zone", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    # The language the family speaks (responders.SPOKEN_LANGUAGES), to suggest partners.
    language = models.CharField(max_length=8, default="en")
    consent_by = models.ForeignKey("accounts.Staff", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    consent_at = models.DateTimeField()
    # {need: "open" | "met"}; a need not in it does not apply to this family.
    needs = models.JSONField(default=dict, blank=True)
    assigned = models.ForeignKey("accounts.Staff", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    contact_encrypted = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=CaseStatus.choices,
                              default=CaseStatus.OPEN)
    follow_up_on = models.DateField(null=True, blank=True)
    # The follow-up date the assigned volunteer was last reminded of (once per date).
    reminded_for = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "follow_up_on"]),
                   models.Index(fields=["status", "closed_at"])]

    def __str__(self) -> str:
        return f"Support case {self.pk}"


class CaseNote(models.Model):
    """One note on a case: written once, never edited (append-only), encrypted at rest."""

    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey("accounts.Staff", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    text_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Partner(models.Model):
    """A partner organisation (legal aid, a bond fund, a food bank...): an organisation,
    not a person. No zone: it serves the whole network."""

    name = models.CharField(max_length=120)
    services = models.JSONField(default=list, blank=True)  # Need values
    languages = models.JSONField(default=list, blank=True)  # SPOKEN_LANGUAGE_CODES
    zone = models.ForeignKey("zones.Zone", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    phone = models.CharField(max_length=32, blank=True)
    url = models.URLField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


# What each audit action of this app is called on a timeline.
AUDIT_ACTIONS = {
    "detention.recorded": _("Detention recorded"),
    "support.opened": _("Support case opened"),
    "support.needs": _("Needs changed"),
    "support.note": _("Note added"),
    "support.status": _("Status changed"),
    "support.assigned": _("Volunteer assigned"),
    "support.follow_up": _("Follow-up date set"),
    "support.contact": _("Family contact changed"),
}
