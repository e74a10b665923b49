"""Rate limits: fixed windows in the cache for web requests (Redis when REDIS_URL is set),
and token buckets for the delivery worker's providers: in Redis when REDIS_URL is set, else
in whatever store the caller gives (the delivery engine keeps them in the database so that
every worker process shares them, rapidresponse.delivery.outbox.buckets).

Keys are keyed hashes, so an IP address used as a key is never kept in readable form,
and only for the length of the window."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from rapidresponse.lib import crypto, net

log = logging.getLogger(__name__)


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
    """Who a web limit counts: the client's address behind our trusted proxies, an IPv6
    client by its /64 (see lib/net.py)."""
    return net.client_key(request)


# --- token buckets: how fast the worker may hand messages to a provider ---------------------

# Refill, then take one token if there is one; otherwise say how long until there will be.
# Redis's own clock is used, so workers on several machines share one notion of time.
_TAKE_LUA = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 60000)
return tostring(wait)
"""


class LocalBuckets:
    """Buckets in this process only: right for one worker process (the embedded default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, capacity: float) -> float:
        with self._lock:
            now = time.monotonic()
            tokens, ts = self._state.get(key, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - ts) * rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / rate


class RedisBuckets:
    """Buckets in Redis, taken with one atomic script: shared by every worker process on
    every machine that uses the same Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_TAKE_LUA)

    def take(self, key: str, rate: float, capacity: float) -> float:
        return float(self._script(keys=[key], args=[repr(rate), repr(capacity)]))  # type: ignore[arg-type]


class BucketStore(Protocol):
    def take(self, key: str, rate: float, capacity: float) -> float:
        """Take one token: 0.0 when one was taken, else the seconds until one will be."""
        ...


Buckets = LocalBuckets | RedisBuckets
_fallback = LocalBuckets()
_buckets: dict[str, Buckets] = {}
_buckets_lock = threading.Lock()


def buckets() -> Buckets:
    """Redis buckets when REDIS_URL is set, in-process buckets otherwise."""
    url = settings.REDIS_URL
    with _buckets_lock:
        if url not in _buckets:
            _buckets[url] = RedisBuckets(url) if url else LocalBuckets()
        return _buckets[url]


class TokenBucket:
    """`rate` tokens a second, at most `capacity` (default: one second's worth) saved up."""

    def __init__(self, name: str, rate: float, capacity: float | None = None, *,
                 store: BucketStore | None = None, prefix: str | None = None) -> None:
        if prefix is None:
            prefix = getattr(settings, "TOKEN_BUCKET_PREFIX", "rr:bucket:")
        self.key = prefix + name
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self.store = store

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def try_take(self) -> float:
        """Take a token: 0.0 when one was taken, else the seconds until one will be there."""
        if self.unlimited:
            return 0.0
        store: BucketStore = self.store if self.store is not None else buckets()
        try:
            return store.take(self.key, self.rate, self.capacity)
        except Exception as exc:  # store unreachable: keep sending, limited in this process
            if isinstance(store, LocalBuckets):
                raise
            log.warning("rate limit store unavailable (%s): limiting in this process", exc)
            return _fallback.take(self.key, self.rate, self.capacity)

    def take(self, *, deadline: float | None = None,
             on_wait: Callable[[], None] | None = None) -> bool:
        """Wait for a token. False (and no token taken) when it would come after `deadline`
        (a time.monotonic() value)."""
        while True:
            wait = self.try_take()
            if wait <= 0:
                return True
            if deadline is not None and time.monotonic() + wait > deadline:
                return False
            if on_wait is not None:
                on_wait()
            time.sleep(min(wait, 1.0))
