"""Answers that carry evidence (the shared copy, an original, the attorney's package), for
the pages and the API alike. Each one is written to the custody log before a byte is sent."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext as _

from rapidresponse.evidence import actions, package, storage
from rapidresponse.evidence.models import CustodyAction, Evidence, Shared
from rapidresponse.incidents.models import Incident

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "video/mp4": "mp4",
              "video/quicktime": "mov", "video/3gpp": "3gp", "video/webm": "webm",
              "audio/mp4": "m4a", "audio/ogg": "ogg", "audio/wav": "wav", "audio/mpeg": "mp3",
              "audio/amr": "amr", "audio/flac": "flac", "audio/webm": "webm",
              "audio/3gpp": "3gp", "audio/quicktime": "mov"}


class NoSharedCopy(Http404):
    pass


def _private(response: StreamingHttpResponse) -> StreamingHttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def shared_message(evidence: Evidence) -> str:
    if evidence.shared == Shared.NO_TOOL:
        return _("This item has no shared copy: ffmpeg is not installed on the server, so its "
                 "metadata could not be removed.")
    if evidence.shared == Shared.NOT_NEEDED:
        return _("A note has no shared copy.")
    return _("This item has no shared copy: its metadata could not be removed.")


def shared(evidence: Evidence, actor: Any) -> StreamingHttpResponse:
    if evidence.shared != Shared.READY or not evidence.shared_name:
        raise NoSharedCopy(shared_message(evidence))
    actions.do_log(evidence, CustodyAction.VIEW, actor)
    ext = EXTENSIONS.get(evidence.shared_content_type, "bin")
    response = StreamingHttpResponse(storage.read(evidence.shared_name),
                                     content_type=evidence.shared_content_type)
    response["Content-Disposition"] = f'inline; filename="evidence-{evidence.pk}-shared.{ext}"'
    if evidence.shared_size is not None:
        response["Content-Length"] = str(evidence.shared_size)
    return _private(response)


def original(evidence: Evidence, actor: Any) -> StreamingHttpResponse:
    actions.do_log(evidence, CustodyAction.DOWNLOAD, actor)
    response = StreamingHttpResponse(storage.read(evidence.stored_name),
                                     content_type=evidence.content_type)
    response["Content-Disposition"] = (f'attachment; filename="evidence-{evidence.pk}"; '
                                       f"filename*=UTF-8''{_quoted(evidence.original_name)}")
    response["Content-Length"] = str(evidence.size)
    return _private(response)


def evidence_package(incident: Incident, actor: Any) -> StreamingHttpResponse:
    items = actions.do_export(incident, actor)
    response = StreamingHttpResponse(package.stream(incident, items, actor),
                                     content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="incident-{incident.pk}-evidence.zip"')
    return _private(response)


def _quoted(name: str) -> str:
    return quote(name, safe="")
