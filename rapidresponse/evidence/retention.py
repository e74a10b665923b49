"""Evidence's retention rules, privacy manifest entries, the hold it keeps on its incidents,
and the rotation of its key (registered with rapidresponse.jobs and incidents when ready)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from rapidresponse.evidence import storage
from rapidresponse.evidence.actions import delete_evidence
from rapidresponse.evidence.models import Evidence
from rapidresponse.incidents.holds import hold
from rapidresponse.incidents.models import OPEN_STATES
from rapidresponse.jobs.registry import key_rotation, not_personal, personal_data, retention
from rapidresponse.lib import filecrypt

#: A file with no row is left alone this long (an upload may be between its file and its row).
ORPHAN_GRACE_S = 24 * 3600


@hold("evidence")
def incidents_with_evidence() -> QuerySet[Any]:
    """An incident stays while any of its evidence does."""
    return Evidence.objects.values("incident_id")


@retention("evidence", model="evidence.Evidence",
           rule=_("evidence (its files, shared copies and custody log) deleted "
                "RETENTION_EVIDENCE_DAYS after its incident closed, or "
                "RETENTION_RELEASED_EVIDENCE_DAYS after a coordinator released it to the "
                "network's attorney; files with no record are swept after a day"))
def evidence(now: datetime) -> dict[str, int]:
    closed_before = now - timedelta(days=settings.RETENTION_EVIDENCE_DAYS)
    released_before = now - timedelta(days=settings.RETENTION_RELEASED_EVIDENCE_DAYS)
    old = Evidence.objects.filter(
        (Q(incident__closed_at__lt=closed_before) & ~Q(incident__state__in=OPEN_STATES))
        | Q(released_at__lt=released_before))
    count = delete_evidence(old)
    return {"evidence": count, "evidence_orphan_files": sweep_orphans()}


def sweep_orphans() -> int:
    """Delete files under the evidence root that no row names (an upload whose row was never
    written), once they are a day old."""
    known = set(Evidence.objects.values_list("stored_name", flat=True)) | set(
        Evidence.objects.exclude(shared_name="").values_list("shared_name", flat=True))
    cutoff = time.time() - ORPHAN_GRACE_S
    swept = 0
    for name, mtime in list(storage.stored_names()):
        if name not in known and mtime < cutoff:
            storage.remove(name)
            swept += 1
    return swept


@key_rotation("evidence files")
def rewrap_files() -> int:
    """The key of every evidence file (originals and shared copies) wrapped with the first
    key of EVIDENCE_ENCRYPTION_KEY."""
    done = 0
    for pair in Evidence.objects.values_list("stored_name", "shared_name").iterator():
        for name in pair:
            path = storage.path_of(name) if name else None
            if path is not None and path.exists() and filecrypt.rewrap(
                    path, settings.EVIDENCE_ENCRYPTION_KEY):
                done += 1
    return done


personal_data(
    "evidence.Evidence",
    fields=("original_name", "note_encrypted", "uploaded_by", "released_by"),
    category="evidence",
    purpose=_("photos, video, audio and notes recorded at an incident, for the people it "
              "affects and their attorneys"),
    protection=_("files encrypted (AES-GCM, EVIDENCE_ENCRYPTION_KEY) under random names; "
                 "shared copies without EXIF, GPS or container metadata; notes encrypted "
                 "(Fernet); the upload's name kept only as a cleaned label"),
    retention=("evidence",), encrypted=("note_encrypted",))
personal_data(
    "evidence.CustodyEntry", fields=("actor", "actor_name"), category="evidence",
    purpose=_("the chain of custody: who uploaded, viewed, downloaded, exported or released "
              "each item, and when (never an IP address)"),
    protection=_("plain; only ever added to"), retention=("evidence",), dated_by="at")
not_personal("evidence.Evidence", fields=("stored_name", "shared_name"),
             why=_("random names of the encrypted files on disk"))
