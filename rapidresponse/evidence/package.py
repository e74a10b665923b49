"""The evidence package for an attorney: a ZIP of the originals (decrypted) and
manifest.json, streamed as it is built, so that no plain copy is written to disk and a long
video never sits in memory whole."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from rapidresponse.evidence import storage
from rapidresponse.evidence.actions import note_of
from rapidresponse.evidence.models import CustodyEntry, Evidence
from rapidresponse.incidents.models import Incident


class _Pipe:
    """A write-only, unseekable stream whose bytes are taken out as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._offset = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def entry_name(evidence: Evidence) -> str:
    return f"originals/{evidence.pk:06d}-{evidence.original_name}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def manifest(incident: Incident, items: list[Evidence], actor: Any) -> dict[str, Any]:
    custody: dict[int, list[CustodyEntry]] = {e.pk: [] for e in items}
    for entry in CustodyEntry.objects.filter(evidence__in=items).order_by("at", "id"):
        custody[entry.evidence_id].append(entry)
    return {
        "network": settings.NETWORK_NAME,
        "incident": incident.pk,
        "exported_at": timezone.now().isoformat(),
        "exported_by": actor.get_username(),
        "files": [{
            "id": e.pk,
            "name": entry_name(e),
            "original_name": e.original_name,
            "kind": e.kind,
            "content_type": e.content_type,
            "size": e.size,
            "sha256": e.sha256,
            "uploaded_at": _iso(e.created_at),
            "uploaded_by": e.uploaded_by.get_username() if e.uploaded_by else None,
            "note": note_of(e),
            "shared_copy_sha256": e.shared_sha256 or None,
            "released_at": _iso(e.released_at),
            "custody": [{"action": c.action, "by": c.actor_name, "at": _iso(c.at)}
                        for c in custody[e.pk]],
        } for e in items],
    }


def stream(incident: Incident, items: list[Evidence], actor: Any) -> Iterator[bytes]:
    """The ZIP, chunk by chunk. The manifest is made first (before any byte is sent), from
    the custody log as it stands after the export was logged."""
    document = json.dumps(manifest(incident, items, actor), indent=2, ensure_ascii=False)
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("manifest.json", document, compress_type=zipfile.ZIP_DEFLATED)
        yield pipe.take()
        for evidence in items:
            with zf.open(entry_name(evidence), "w",
                         force_zip64=evidence.size > 2**31) as member:
                for chunk in storage.read(evidence.stored_name):
                    member.write(chunk)
                    yield pipe.take()
    yield pipe.take()
