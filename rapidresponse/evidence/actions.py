"""Writes of evidence: upload (with its shared copy), the custody log, release, deletion.

An upload is stored before its row is written (the bytes must be hashed and encrypted as
they are read); if the row is not written the files are removed at once, and a file without
a row that somehow stays behind is swept by the retention job."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.access import AnyUser
from rapidresponse.evidence import inspect, storage
from rapidresponse.evidence.inspect import Refused
from rapidresponse.evidence.models import CustodyAction, CustodyEntry, Evidence, Kind, Shared
from rapidresponse.incidents.models import Incident
from rapidresponse.lib import crypto
from rapidresponse.lib.errors import InvalidInput

MAX_NOTE = 2000
MAX_NAME = 100


def clean_name(name: str, fallback: str) -> str:
    """The upload's name as a label: no directories, no control or odd characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] not in ("C", "Z") or c == " ")
    name = re.sub(r"[^\w .()+-]", "_", name).strip(" .")
    return name[-MAX_NAME:] or fallback


def log(evidence: Evidence, action: str, actor: Any) -> CustodyEntry:
    user = actor if actor is not None and actor.is_authenticated else None
    return CustodyEntry.objects.create(
        evidence=evidence, action=action, actor=user,
        actor_name=user.get_username() if user is not None else "")


@dataclass
class Stored:
    kind: str
    content_type: str
    name: str
    original: storage.Sink
    shared: str = Shared.NOT_NEEDED
    shared_sink: storage.Sink | None = None
    shared_type: str = ""

    def names(self) -> list[str]:
        return [self.original.name] + ([self.shared_sink.name] if self.shared_sink else [])


def _store_file(upload: UploadedFile) -> Stored:
    if upload.size is not None and upload.size > settings.EVIDENCE_MAX_BYTES:
        raise Refused(413, too_large_message())
    with storage.work_dir() as work:
        on_disk = _OnDisk(upload, work)
        found, image = inspect.identify(upload.file, on_disk)  # type: ignore[arg-type]
        upload.seek(0)
        original = storage.store(upload.chunks())
        stored = Stored(kind=found.kind, content_type=found.content_type, original=original,
                        name=clean_name(upload.name or "", f"evidence.{found.extension}"))
        try:
            if image is not None:
                copy = io.BytesIO()
                stored.shared_type = inspect.shared_picture(image, str(image.format), copy)
                stored.shared_sink = storage.store([copy.getvalue()])
                stored.shared = Shared.READY
            elif not inspect.has_ffmpeg():
                stored.shared = Shared.NO_TOOL
            else:
                _strip_media(on_disk(), work / f"out.{found.extension}", found, stored)
        except BaseException:
            for name in stored.names():
                storage.remove(name)
            raise
    return stored


class _OnDisk:
    """The upload as a file for ffprobe and ffmpeg: where Django put a large one, or a
    small one (held in memory) written once into the private work directory."""

    def __init__(self, upload: UploadedFile, work: Path):
        self.upload, self.work, self.path = upload, work, ""

    def __call__(self) -> str:
        if not self.path:
            temporary = getattr(self.upload, "temporary_file_path", None)
            if temporary is not None:
                self.path = str(temporary())
            else:
                self.path = str(self.work / "upload")
                with open(self.path, "wb") as plain:
                    self.upload.seek(0)
                    for chunk in self.upload.chunks():
                        plain.write(chunk)
        return self.path


def _strip_media(source: str, target: Path, found: inspect.Found, stored: Stored) -> None:
    if inspect.stripped_media(source, target, found.extension):
        with open(target, "rb") as clean:
            stored.shared_sink = storage.store(iter(lambda: clean.read(1 << 16), b""))
        stored.shared = Shared.READY
        stored.shared_type = found.content_type
    else:
        stored.shared = Shared.FAILED


def too_large_message() -> str:
    return _("This file is too large: at most %(n)s MB.") % {
        "n": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}


def do_upload(incident: Incident, actor: AnyUser,
              upload: UploadedFile | None, note: str = "") -> Evidence:
    """Keep a photo, video or audio recording (or a note alone) as evidence of the incident.
    Refused (400, 413, 415) or InvalidInput (400) with a message for anything else."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput({"note": _("Keep the note under %(n)s characters.")
                            % {"n": MAX_NOTE}})
    if upload is None:
        if not note:
            raise InvalidInput({"file": _("Choose a photo, video or audio recording, or "
                                          "write a note.")})
        stored = Stored(kind=Kind.NOTE, content_type="text/plain", name="note.txt",
                        original=storage.store([note.encode()]))
        note = ""
    else:
        stored = _store_file(upload)
    try:
        with transaction.atomic():
            shared = stored.shared_sink
            evidence = Evidence.objects.create(
                incident=incident, kind=stored.kind, uploaded_by=actor if actor.is_authenticated
                else None, original_name=stored.name,
                note_encrypted=crypto.encrypt(note) if note else "",
                content_type=stored.content_type, size=stored.original.size,
                sha256=stored.original.sha256, stored_name=stored.original.name,
                shared=stored.shared, shared_name=shared.name if shared else "",
                shared_content_type=stored.shared_type,
                shared_size=shared.size if shared else None,
                shared_sha256=shared.sha256 if shared else "")
            log(evidence, CustodyAction.UPLOAD, actor)
            audit.record(actor, "evidence.uploaded", incident, evidence=evidence.pk,
                         kind=stored.kind)
    except BaseException:
        for name in stored.names():
            storage.remove(name)
        raise
    return evidence


def note_of(evidence: Evidence) -> str:
    return crypto.decrypt(evidence.note_encrypted) if evidence.note_encrypted else ""


@transaction.atomic
def do_log(evidence: Evidence, action: str, actor: Any) -> None:
    log(evidence, action, actor)


@transaction.atomic
def do_export(incident: Incident, actor: Any) -> list[Evidence]:
    """Log the export of the incident's evidence (each item's custody log, and the timeline);
    the items, for the package."""
    items = list(Evidence.objects.filter(incident=incident).select_for_update())
    for evidence in items:
        log(evidence, CustodyAction.EXPORT, actor)
    audit.record(actor, "evidence.exported", incident, items=len(items))
    return items


@transaction.atomic
def do_release(incident: Incident, actor: Any) -> int:
    """A coordinator released the incident's evidence to the network's attorney: it is
    deleted RETENTION_RELEASED_EVIDENCE_DAYS from now. How many items were released."""
    items = list(Evidence.objects.filter(incident=incident, released_at__isnull=True)
                 .select_for_update())
    if not items:
        raise InvalidInput({"release": _("There is no evidence left to release.")})
    now = timezone.now()
    for evidence in items:
        log(evidence, CustodyAction.RELEASE, actor)
    Evidence.objects.filter(pk__in=[e.pk for e in items]).update(
        released_at=now, released_by=actor if actor.is_authenticated else None)
    audit.record(actor, "evidence.released", incident, items=len(items))
    return len(items)


def delete_evidence(qs: Any) -> int:
    """Delete these evidence rows (and their custody logs), and their files once the
    deletion is committed."""
    names = [n for pair in qs.values_list("stored_name", "shared_name") for n in pair if n]
    count = int(qs.delete()[1].get(Evidence._meta.label, 0))

    def remove_files() -> None:
        for name in names:
            storage.remove(name)

    transaction.on_commit(remove_files)
    return count
