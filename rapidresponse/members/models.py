from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapidresponse.lib import crypto


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    PUSH = "push", _("Web push")
    SIGNAL = "signal", _("Signal")
    # A partner system's endpoint (the "member" is the partner).
    WEBHOOK = "webhook", _("Webhook")


class Member(models.Model):
    """Someone who receives alerts. No immigration status, no nationality, no address."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        ACTIVE = "active", _("Active")
        OPTED_OUT = "opted_out", _("Opted out")

    class Source(models.TextChoices):
        SIGNUP = "signup", _("Sign-up page")
        IMPORT = "import", _("Imported list")
        API = "api", _("API")
        STAFF = "staff", _("Staff")

    name = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SIGNUP)
    created_at = models.DateTimeField(auto_now_add=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # "I can come and witness peacefully": a dispatcher may ask them to a confirmed incident
    # near one of their places (rapidresponse.dispatch.witnesses).
    can_witness = models.BooleanField(default=False, db_default=False)
    # Labels coordinators give members (for invitations and broadcasts): "parents",
    # "Spanish speakers", "Hollenbeck Middle School"... never a status or a nationality.
    tags: models.ManyToManyField[Tag, MemberTag] = models.ManyToManyField(
        "Tag", through="MemberTag", blank=True, related_name="members")

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.name or str(_("member %(id)s") % {"id": self.pk})


#: How a contact of a channel whose value is neither a phone nor an email is shown (kind ->
#: function of the decrypted value), filled by that channel's app when it is ready.
MASKERS: dict[str, Callable[[str], str]] = {}


class ContactPointQuerySet(models.QuerySet["ContactPoint"]):
    def usable(self) -> ContactPointQuerySet:
        """Contact points a message may go to: the member wants messages there, it is
        confirmed and working, and the member is active. The one definition of a usable
        contact: the alert fan-out's SQL (USABLE_CONTACT_SQL), cost previews and the
        fall-back to a member's next channel all mean exactly this."""
        return self.filter(enabled=True, verified_at__isnull=False, disabled_at__isnull=True,
                           member__status=Member.Status.ACTIVE)


#: USABLE_CONTACT_SQL for raw SQL: `cp` a contact point row, `m` its member row.
USABLE_CONTACT_SQL = ("m.status = 'active' AND cp.enabled AND cp.disabled_at IS NULL "
                      "AND cp.verified_at IS NOT NULL")


class ContactPoint(models.Model):
    """A phone number or email address, encrypted, with a blind index for look-ups."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=10, choices=Channel.choices)
    value_encrypted = models.TextField(blank=True)
    blind_index = models.CharField(max_length=64)
    # The member wants messages here (their channel preference).
    enabled = models.BooleanField(default=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    objects = ContactPointQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "blind_index"], name="contact_blind_unique"),
            models.UniqueConstraint(fields=["member", "kind"], name="contact_member_kind_unique"),
        ]
        indexes = [
            # Covers everything the alert fan-out reads from a contact point, so finding a
            # recipient's usable channels needs no table look-up (see `make bench`).
            models.Index(fields=["member", "enabled", "disabled_at", "verified_at", "kind"],
                         name="contact_usable"),
        ]

    @property
    def value(self) -> str:
        return crypto.decrypt(self.value_encrypted) if self.value_encrypted else ""

    @property
    def masked(self) -> str:
        """The contact as staff and the member may see it: never the whole number or
        address. A channel whose value is not a phone or an email registers its own
        (MASKERS: web push shows only the push services' host names)."""
        return mask(self.kind, self.value)


def mask(kind: str, value: str) -> str:
    """ContactPoint.masked of a contact of this kind whose decrypted value is `value`."""
    if kind in MASKERS and value:
        return MASKERS[kind](value)
    if kind == Channel.EMAIL and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"***{value[-4:]}" if value else ""


class WatchArea(models.Model):
    """A place a member cares about, kept only as a coarse cell and a number of rings.

    The spot the member chose is never stored: only the resolution-8 cell that holds it and
    how many rings of neighbouring cells cover the radius they asked for.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="watch_areas")
    label = models.CharField(max_length=20, default="home")
    cell = models.BigIntegerField()
    rings = models.PositiveSmallIntegerField(default=1)
    radius_m = models.PositiveIntegerField(default=1000)

    class Meta:
        indexes = [
            # The alert fan-out finds watch areas by cell and reads only rings and member:
            # with all three in the index it never touches the table (see `make bench`).
            models.Index(fields=["cell", "rings", "member"], name="watch_area_reach"),
        ]


class Tag(models.Model):
    """A label for members, of one zone (its coordinators' own) or of the whole network."""

    name = models.CharField(max_length=60)
    zone = models.ForeignKey("zones.Zone", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["name", "zone"], name="tag_name_zone")]

    def __str__(self) -> str:
        return self.name


class MemberTag(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "tag"],
                                               name="member_tag_unique")]


MAX_WATCH_AREAS = 3
WATCH_LABELS = [("home", _("Home")), ("work", _("Work")), ("school", _("School")),
                ("other", _("Other"))]


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]
