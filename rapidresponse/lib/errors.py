from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest


class InvalidInput(Exception):
    """Field errors, already translated into the active language: {field: message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def flash_failure(request: HttpRequest, exc: Exception) -> None:
    """Show on the next page why an action was not taken: each field's message, or the
    error's own (already in the reader's language)."""
    if isinstance(exc, InvalidInput):
        for text in exc.errors.values():
            messages.error(request, text)
    else:
        messages.error(request, str(exc))
