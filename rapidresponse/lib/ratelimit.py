"""Fixed-window rate limits in the cache (Redis when REDIS_URL is set).

Keys are keyed hashes, so an IP address used as a key is never kept in readable form,
and only for the length of the window."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

from rapidresponse.lib import crypto


def hit(scope: str, key: str, limit: int, window_s: int) -> bool:
    """Count one hit; False when the limit for this window is exceeded."""
    bucket = int(time.time() // window_s)
    cache_key = f"rl:{scope}:{crypto.blind_index('ratelimit', key)[:32]}:{bucket}"
    if cache.add(cache_key, 1, timeout=window_s + 5):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=window_s + 5)
        count = 1
    return count <= limit


def client_key(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"
