"""/api/v1 evidence endpoints: upload (multipart), the shared copy, the attorney's package.
Added to the API in v1.py, behind the bearer token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, UploadedFile
from ninja.errors import HttpError

from rapidresponse.api.schemas import EvidenceCreated, answers, binary
from rapidresponse.evidence import access, actions, serve, uploads
from rapidresponse.evidence.inspect import IMAGE_FORMATS, Refused

router = Router(tags=["evidence"])

SHARED_TYPES = sorted({t for t, _shared in IMAGE_FORMATS.values()} | {
    "image/jpeg", "image/png", *serve.EXTENSIONS})


@router.post("/incidents/{incident_id}/evidence",
             response=answers(201, EvidenceCreated, 401, 403, 404, 413, 415, 422))
def upload_evidence(request: HttpRequest, incident_id: int,
                    file: UploadedFile | None = File(None),  # noqa: B008 - ninja's way
                    note: str = Form("")) -> Any:  # noqa: B008
    """Keep a photo, video or audio recording (multipart field `file`, with an optional
    `note`; or a note alone) as evidence of the incident. Responders of the incident's zone,
    its dispatchers and coordinators. `sha256` is that of the bytes received. The type is
    found from the content (415 for anything else); at most EVIDENCE_MAX_BYTES (413) and
    EVIDENCE_MAX_PIXELS (400)."""
    incident = access.access_incident_for_upload(request.user, incident_id)
    if uploads.too_large(request):
        raise Refused(413, actions.too_large_message())
    evidence = actions.do_upload(incident, request.user, file, note)
    return 201, {"id": evidence.pk, "sha256": evidence.sha256}


@router.get("/evidence/{evidence_id}/shared", response=answers(200, None, 401, 403, 404, 422),
            openapi_extra=binary("The shared copy: re-encoded without EXIF or GPS (pictures), "
                                 "or with the container's metadata removed (video, audio).",
                                 *SHARED_TYPES))
def shared_copy(request: HttpRequest, evidence_id: int) -> Any:
    """The shared copy of an item (its viewing is written to the custody log). 404 when it
    has none (ffmpeg missing on the server for video and audio; notes)."""
    evidence = access.access_shared(request.user, evidence_id)
    try:
        return serve.shared(evidence, request.user)
    except serve.NoSharedCopy as exc:
        raise HttpError(404, str(exc)) from exc


@router.get("/incidents/{incident_id}/evidence-package",
            response=answers(200, None, 401, 403, 404, 422),
            openapi_extra=binary("A ZIP: manifest.json and the originals, decrypted.",
                                 "application/zip"))
def evidence_package(request: HttpRequest, incident_id: int) -> Any:
    """The incident's evidence for an attorney (dispatchers and coordinators of its zone): a
    ZIP of the originals and `manifest.json` listing, for each file, its name, `sha256`,
    times and custody log. The export is written to each item's custody log."""
    incident = access.access_package(request.user, incident_id)
    return serve.evidence_package(incident, request.user)
