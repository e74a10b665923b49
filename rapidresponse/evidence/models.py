"""Evidence: photos, video, audio and notes that responders record at an incident.

The original (the bytes received, their SHA-256 recorded) is kept encrypted on disk under a
random name (lib/filecrypt, EVIDENCE_ENCRYPTION_KEY); the name it was uploaded with is kept
only as a cleaned label. A picture also gets a *shared copy*, re-encoded without EXIF or GPS
(its own SHA-256 recorded); video and audio get one with their metadata stripped when ffmpeg
is installed. Every upload, view, download, export and release is written to the custody
log, which is only ever added to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    NOTE = "note", _("Note")


class Shared(models.TextChoices):
    """What became of the shared copy."""

    READY = "ready", _("Shared copy without metadata")
    NO_TOOL = "no_tool", _("No shared copy: ffmpeg is not installed on the server")
    FAILED = "failed", _("No shared copy: the metadata could not be removed")
    NOT_NEEDED = "not_needed", _("A note has no metadata")


# Shown on the incident's timeline (audit entries of the incident).
AUDIT_ACTIONS = {
    "evidence.uploaded": _("Evidence uploaded"),
    "evidence.exported": _("Evidence package exported"),
    "evidence.released": _("Evidence released to the attorney"),
}


class Evidence(models.Model):
    # PROTECT: an incident with evidence is held (incidents.holds); it goes after its evidence.
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT,
                                 related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The upload's name, cleaned (no path, no control characters): a label only.
    original_name = models.CharField(max_length=120)
    note_encrypted = models.TextField(blank=True)
    content_type = models.CharField(max_length=40)  # found from the content, not the client
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)  # of the bytes received
    stored_name = models.CharField(max_length=64, unique=True)
    shared = models.CharField(max_length=12, choices=Shared.choices)
    shared_name = models.CharField(max_length=64, blank=True)
    shared_content_type = models.CharField(max_length=40, blank=True)
    shared_size = models.BigIntegerField(null=True, blank=True)
    shared_sha256 = models.CharField(max_length=64, blank=True)
    # Released to the network's attorney by a coordinator: deleted
    # RETENTION_RELEASED_EVIDENCE_DAYS later.
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return f"Evidence {self.pk}"


class CustodyAction(models.TextChoices):
    UPLOAD = "upload", _("Uploaded")
    VIEW = "view", _("Viewed (shared copy)")
    DOWNLOAD = "download", _("Original downloaded")
    EXPORT = "export", _("Exported in an evidence package")
    RELEASE = "release", _("Released to the attorney")


class CustodyEntryQuerySet(models.QuerySet["CustodyEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("the custody log is append-only")


class CustodyEntry(models.Model):
    """One line of an item's chain of custody: who did what, when (never an IP address).
    Rows are never changed; they go only with their evidence."""

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="custody")
    action = models.CharField(max_length=10, choices=CustodyAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    # The actor's username when it happened: the log still reads right once the login is gone.
    actor_name = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)

    objects = CustodyEntryQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("the custody log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the custody log is append-only")
