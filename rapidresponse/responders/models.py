"""Responders: what each staff member can do (skills and trainings), which languages they
speak, roughly where they live, whether they are available, and the on-call shifts.

A profile belongs to a staff member (accounts.Staff) of any role; the role says what they
may do on the site, the skills what they are sent to do. Places are resolution-8 H3 cells
only (the point given is dropped). Times are stored in UTC; shifts are written in the
network's TIME_ZONE (wall-clock times), and turned into instants by schedule.py."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Skill(models.TextChoices):
    DISPATCHER = "dispatcher", _("Dispatcher")
    VERIFIER = "verifier", _("Verifier")
    LEGAL_OBSERVER = "legal_observer", _("Legal observer")
    WITNESS = "witness", _("Witness")
    ACCOMPANIMENT = "accompaniment", _("Accompaniment")
    INTERPRETER = "interpreter", _("Interpreter")
    FAMILY_SUPPORT = "family_support", _("Family support")


#: Languages a responder may speak (ISO 639 codes): the languages of the block, not only
#: those the site is translated into.
SPOKEN_LANGUAGES = [
    ("en", _("English")), ("es", _("Spanish")), ("zh", _("Chinese (Mandarin)")),
    ("yue", _("Cantonese")), ("ko", _("Korean")), ("vi", _("Vietnamese")),
    ("tl", _("Tagalog")), ("hy", _("Armenian")), ("fa", _("Persian")), ("ar", _("Arabic")),
    ("ru", _("Russian")), ("pt", _("Portuguese")), ("fr", _("French")),
    ("ht", _("Haitian Creole")), ("quc", _("K'iche'")), ("mam", _("Mam")),
    ("kjb", _("Q'anjob'al")), ("zap", _("Zapotec")), ("mix", _("Mixtec")),
    ("tsz", _("Purépecha")), ("ase", _("American Sign Language")),
]
SPOKEN_LANGUAGE_CODES = [code for code, _name in SPOKEN_LANGUAGES]


class Availability(models.TextChoices):
    AVAILABLE = "available", _("Available")
    NOT_TODAY = "not_today", _("Not today")
    AWAY = "away", _("Away until a date")


class ResponderProfile(models.Model):
    staff = models.OneToOneField("accounts.Staff", on_delete=models.CASCADE,
                                 related_name="responder")
    # Resolution-8 H3 cell (about 0.7 km²) around where they live; never the point.
    home_cell = models.BigIntegerField(null=True, blank=True)
    languages = models.JSONField(default=list, blank=True)
    # What the responder said last, and until when they are away (None: available). The
    # answer "available" is also what an away time that has passed means.
    availability = models.CharField(max_length=12, choices=Availability.choices,
                                    default=Availability.AVAILABLE)
    away_until = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"responder {self.staff_id}"


class ResponderSkill(models.Model):
    profile = models.ForeignKey(ResponderProfile, on_delete=models.CASCADE,
                                related_name="skills")
    skill = models.CharField(max_length=20, choices=Skill.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "skill"],
                                               name="responder_skill_unique")]
        indexes = [models.Index(fields=["skill", "profile"])]


class Training(models.Model):
    """A training for one skill: it counts from the day it was completed until the day it
    expires (that day included; no expiry: it does not expire)."""

    profile = models.ForeignKey(ResponderProfile, on_delete=models.CASCADE,
                                related_name="trainings")
    skill = models.CharField(max_length=20, choices=Skill.choices)
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["skill", "-completed_on", "id"]
        indexes = [models.Index(fields=["skill", "expires_on"])]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ShiftRole(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    BACKUP = "backup", _("Backup")


class ShiftSchedule(models.Model):
    """A recurring on-call shift for one zone and skill: on the chosen weekdays from
    `starts_at` to `ends_at` wall-clock time in TIME_ZONE (an end at or before the start
    ends the next day: 18:00-06:00 is overnight, 00:00-00:00 a whole day), between two
    dates. A primary and a backup; no primary is a hole the coordinators see."""

    zone = models.ForeignKey("zones.Zone", on_delete=models.CASCADE, related_name="+")
    skill = models.CharField(max_length=20, choices=Skill.choices)
    # Weekdays as digits, Monday 0 ... Sunday 6: "01234" is Monday to Friday.
    weekdays = models.CharField(max_length=7)
    starts_at = models.TimeField()
    ends_at = models.TimeField()
    first_day = models.DateField()
    last_day = models.DateField(null=True, blank=True)
    primary = models.ForeignKey("accounts.Staff", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    backup = models.ForeignKey("accounts.Staff", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zone__name", "skill", "starts_at", "id"]
        indexes = [models.Index(fields=["zone", "skill"])]


class ShiftOverride(models.Model):
    """One occurrence of a schedule (the one starting on `day`) with someone else in one
    role: a swap. No staff: nobody in that role that time."""

    schedule = models.ForeignKey(ShiftSchedule, on_delete=models.CASCADE,
                                 related_name="overrides")
    day = models.DateField()
    role = models.CharField(max_length=8, choices=ShiftRole.choices)
    staff = models.ForeignKey("accounts.Staff", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["schedule", "day", "role"],
                                               name="shift_override_unique")]


class CalendarFeed(models.Model):
    """A responder's private calendar link. The token is found by its SHA-256 hash; it is
    kept encrypted too so that its owner can see and copy the link again. Deleting the row
    revokes the link."""

    staff = models.OneToOneField("accounts.Staff", on_delete=models.CASCADE,
                                 related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    token_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)


# What each audit action of this app is called on a timeline.
AUDIT_ACTIONS = {
    "responder.profile_saved": _("Responder profile saved"),
    "responder.training_added": _("Training added"),
    "responder.training_removed": _("Training removed"),
    "responder.calendar_link_made": _("Calendar link made"),
    "responder.calendar_link_revoked": _("Calendar link revoked"),
    "shift.created": _("Shift created"),
    "shift.changed": _("Shift changed"),
    "shift.deleted": _("Shift deleted"),
    "shift.swapped": _("Shift swapped"),
    "shift.swap_undone": _("Swap undone"),
}
