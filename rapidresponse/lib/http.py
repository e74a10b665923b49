"""The only outbound HTTP in the project: one client, timeouts always set."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class HttpError(Exception):
    def __init__(self, message: str, *, timed_out: bool = False, status: int | None = None):
        super().__init__(message)
        self.timed_out = timed_out
        self.status = status


_client: httpx.Client | None = None


def client() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
    return _client


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    seconds = float(getattr(settings, "OUTBOUND_HTTP_TIMEOUT", 10))
    kwargs.setdefault("timeout", httpx.Timeout(seconds, connect=min(5.0, seconds)))
    try:
        return client().request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise HttpError(f"{method} {url} timed out", timed_out=True) from exc
    except httpx.HTTPError as exc:
        raise HttpError(f"{method} {url} failed: {exc}") from exc
