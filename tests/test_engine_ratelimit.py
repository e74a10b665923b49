"""Per-channel token buckets: in this process, or shared by every worker through Redis."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery
from rapidresponse.delivery.transport import drill_transport_for, transport_for
from rapidresponse.lib.ratelimit import LocalBuckets, RedisBuckets, TokenBucket
from tests.conftest import make_member
from tests.engine_support import SignalStub, add_contact, redis_available, redis_url, running

BODIES = {"en": {"subject": "", "text": "Meeting tonight"}}

needs_redis = pytest.mark.skipif(not redis_available(),
                                 reason="no Redis at REDIS_URL or 127.0.0.1:6379")


def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def redis_store() -> Iterator[RedisBuckets]:
    store = RedisBuckets(redis_url())
    yield store


def grants(bucket: TokenBucket, tries: int) -> int:
    return sum(1 for _ in range(tries) if bucket.try_take() == 0.0)


# A refill this slow adds no token while a test runs: the counts below are exact.
SLOW = 0.001


def test_a_local_bucket_grants_its_capacity_then_says_how_long_to_wait():
    bucket = TokenBucket("sms", SLOW, capacity=3, store=LocalBuckets(), prefix=prefix())
    assert grants(bucket, 10) == 3
    wait = bucket.try_take()
    assert 0 < wait <= 1 / SLOW


def test_buckets_are_separate_per_key():
    store = LocalBuckets()
    p = prefix()
    one = TokenBucket("sms:+12135550001", SLOW, capacity=2, store=store, prefix=p)
    two = TokenBucket("sms:+12135550002", SLOW, capacity=2, store=store, prefix=p)
    assert grants(one, 5) == 2
    assert grants(two, 5) == 2


def test_the_default_capacity_is_one_seconds_worth():
    assert TokenBucket("sms", 10).capacity == 10
    assert TokenBucket("signal", 0.5).capacity == 1


def test_a_rate_of_zero_means_no_limit():
    bucket = TokenBucket("sms", 0, store=LocalBuckets(), prefix=prefix())
    assert grants(bucket, 1000) == 1000


def test_waiting_for_a_token_gives_up_at_the_deadline():
    bucket = TokenBucket("sms", SLOW, capacity=1, store=LocalBuckets(), prefix=prefix())
    assert bucket.take(deadline=time.monotonic() + 5)
    assert not bucket.take(deadline=time.monotonic() + 5)  # the next token is ~1000 s away


@needs_redis
def test_a_redis_bucket_grants_its_capacity_then_says_how_long_to_wait(redis_store):
    bucket = TokenBucket("sms", SLOW, capacity=3, store=redis_store, prefix=prefix())
    assert grants(bucket, 10) == 3
    assert 0 < bucket.try_take() <= 1 / SLOW


@needs_redis
def test_a_redis_bucket_is_shared_by_separate_clients():
    p = prefix()
    first = TokenBucket("sms", SLOW, capacity=4, store=RedisBuckets(redis_url()), prefix=p)
    second = TokenBucket("sms", SLOW, capacity=4, store=RedisBuckets(redis_url()), prefix=p)
    assert grants(first, 3) == 3
    assert grants(second, 3) == 1  # the other "worker" already took three of the four


@needs_redis
def test_a_redis_bucket_never_grants_more_than_it_holds_under_contention():
    p = prefix()
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        bucket = TokenBucket("sms", SLOW, capacity=25, store=RedisBuckets(redis_url()),
                             prefix=p)
        n = grants(bucket, 20)
        with lock:
            granted.append(n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(granted) == 25  # 160 tries by 8 clients at once, one bucket of 25


@needs_redis
def test_a_redis_bucket_expires_when_idle(redis_store):
    import redis

    p = prefix()
    TokenBucket("sms", 100.0, store=redis_store, prefix=p).try_take()
    ttl = redis.Redis.from_url(redis_url()).pttl(p + "sms")
    assert 0 < ttl <= 61_000 + 1_000


# --- the worker waits for its turn ---------------------------------------------------------


@pytest.fixture
def signal_api(settings: Any) -> Iterator[SignalStub]:
    with running(SignalStub()) as stub:
        settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                     "signal": settings.CHANNEL_BACKEND_NAMES["signal"][
                                         "signal-cli"]}
        settings.SIGNAL_API_URL = stub.url
        settings.SIGNAL_NUMBER = "+13235550100"
        settings.TOKEN_BUCKET_PREFIX = prefix()
        transport_for.cache_clear()
        yield stub
    transport_for.cache_clear()
    drill_transport_for.cache_clear()


def signal_members(n: int) -> list[Any]:
    people = []
    for i in range(n):
        number = f"+1213556{i:04d}"
        m = make_member(f"S{i}", "en", phone=number)
        add_contact(m, "signal", number)
        people.append(m)
    return people


@pytest.mark.parametrize("store", ["local", pytest.param("redis", marks=needs_redis)])
def test_the_worker_waits_for_a_token_instead_of_failing(db, signal_api, settings, store):
    if store == "redis":
        settings.REDIS_URL = redis_url()
    else:
        settings.REDIS_URL = ""
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "signal": 5.0}
    message = outbox.create_message("notice", BODIES, is_drill=False)
    outbox.add_deliveries(message, [(m, "signal", 0) for m in signal_members(8)])
    started = time.monotonic()
    outbox.drain()
    waited = time.monotonic() - started
    assert set(Delivery.objects.filter(message=message).values_list("status", flat=True)) \
        == {"sent"}
    assert len(signal_api.requests) == 8
    # Five tokens at the start, then one every 0.2 s: the last three waited their turn.
    assert waited >= 3 * 0.2 * 0.95
    if store == "redis":
        import redis

        assert redis.Redis.from_url(redis_url()).exists(settings.TOKEN_BUCKET_PREFIX + "signal")


def test_what_gets_no_token_in_time_is_given_back_unsent(db, signal_api, settings):
    settings.REDIS_URL = ""
    settings.CHANNEL_RATE_LIMITS = {**settings.CHANNEL_RATE_LIMITS, "signal": SLOW}
    message = outbox.create_message("notice", BODIES, is_drill=False)
    outbox.add_deliveries(message, [(m, "signal", i) for i, m in enumerate(signal_members(3))])
    outbox.drain(max_seconds=1)
    rows = list(Delivery.objects.filter(message=message).order_by("rank")
                .values_list("status", "attempts", "claim"))
    assert rows[0][:2] == ("sent", 1)
    assert rows[1:] == [("queued", 0, ""), ("queued", 0, "")]  # not failed, not counted
    assert len(signal_api.requests) == 1
