"""The only outbound HTTP in the project: one client per thread, timeouts always set.

Each thread has its own client (and so its own pool of kept-alive connections): the
delivery worker's send threads then never wait on each other for a shared pool's lock."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from django.conf import settings

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class HttpError(Exception):
    def __init__(self, message: str, *, timed_out: bool = False, status: int | None = None):
        super().__init__(message)
        self.timed_out = timed_out
        self.status = status


_local = threading.local()


def client() -> httpx.Client:
    found: httpx.Client | None = getattr(_local, "client", None)
    if found is None:
        found = httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        _local.client = found
    return found


def close() -> None:
    """Close this thread's client (a thread that is about to end)."""
    found: httpx.Client | None = getattr(_local, "client", None)
    if found is not None:
        _local.client = None
        found.close()


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    seconds = float(getattr(settings, "OUTBOUND_HTTP_TIMEOUT", 10))
    kwargs.setdefault("timeout", httpx.Timeout(seconds, connect=min(5.0, seconds)))
    try:
        return client().request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise HttpError(f"{method} {url} timed out", timed_out=True) from exc
    except httpx.HTTPError as exc:
        raise HttpError(f"{method} {url} failed: {exc}") from exc
