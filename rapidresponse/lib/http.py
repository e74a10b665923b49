"""The only outbound HTTP in the project: one client per thread, timeouts always set.

Each thread has its own client (and so its own pool of kept-alive connections): the
delivery worker's send threads then never wait on each other for a shared pool's lock. A
thread that ends hands its client on (`release`) to the next thread that needs one, so
connections stay open from one drain of the outbox to the next, and no thread pays for
setting up a client (TLS context included) again.

`deadline(at)` bounds every request made inside it (on this thread or task) by a common end:
each request's timeout is cut to what is left, so a sweep that asks a provider about many
messages one at a time spends no more than its budget when the provider hangs."""

from __future__ import annotations

import queue
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
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
_deadline: ContextVar[float | None] = ContextVar("http_deadline", default=None)
# Clients of threads that ended, with their open connections, for the next threads.
_idle: queue.SimpleQueue[httpx.Client] = queue.SimpleQueue()


_tls_lock = threading.Lock()


@cache
def _made_tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _tls() -> ssl.SSLContext:
    """One TLS context (certificate checks on, as httpx makes it) for every client: making
    one reads the whole CA bundle (tens of milliseconds of CPU each). Under a lock, so that
    the worker's sender threads, all starting at once, do not each make one."""
    with _tls_lock:
        return _made_tls()


def client() -> httpx.Client:
    found: httpx.Client | None = getattr(_local, "client", None)
    if found is None:
        try:
            found = _idle.get_nowait()
        except queue.Empty:
            found = httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False,
                                 verify=_tls())
        _local.client = found
    return found


def release() -> None:
    """This thread is about to end: its client goes to the next thread that needs one."""
    found: httpx.Client | None = getattr(_local, "client", None)
    if found is not None:
        _local.client = None
        _idle.put(found)


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Requests inside end by `at` (time.monotonic()), or by an earlier deadline around it."""
    outer = _deadline.get()
    token = _deadline.set(at if outer is None else min(outer, at))
    try:
        yield
    finally:
        _deadline.reset(token)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    seconds = float(getattr(settings, "OUTBOUND_HTTP_TIMEOUT", 10))
    at = _deadline.get()
    if at is not None:
        left = at - time.monotonic()
        if left <= 0:
            raise HttpError(f"{method} {url} not sent: its time was up")
        seconds = min(seconds, left)
        kwargs.pop("timeout", None)  # the deadline is the caller's word
    kwargs.setdefault("timeout", httpx.Timeout(seconds, connect=min(5.0, seconds)))
    try:
        return client().request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise HttpError(f"{method} {url} timed out", timed_out=True) from exc
    except httpx.HTTPError as exc:
        raise HttpError(f"{method} {url} failed: {exc}") from exc
