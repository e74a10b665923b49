"""Uploads are counted as they arrive: a file larger than EVIDENCE_MAX_BYTES is dropped
(never kept whole, in memory or on disk) and the request is marked, so that the view answers
413 with a clear message instead of "no file"."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

TOO_LARGE = "_rr_upload_too_large"


class CappedUploadHandler(FileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.EVIDENCE_MAX_BYTES:
            if self.request is not None:
                setattr(self.request, TOO_LARGE, True)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def too_large(request: Any) -> bool:
    """Was a file of this request dropped for its size (or does the request say it is
    larger than any upload may be)?"""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return bool(getattr(request, TOO_LARGE, False)) or \
        length > settings.EVIDENCE_MAX_BYTES + 1024 * 1024
