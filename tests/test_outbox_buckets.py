"""Rate limits without Redis: the buckets are rows in the database, so every worker process
draws from the same one and together they send at the configured rate, not N times it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rapidresponse.delivery.outbox.buckets import TAKE_AHEAD_S, DatabaseBuckets
from rapidresponse.lib.ratelimit import TokenBucket
from tests.engine_support import ROOT, Site, make_site, seed_in, status_counts
from tests.stubs.twilio_stub import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioStub

SLOW = 0.001  # a refill this slow adds no token while a test runs


def grants(bucket: TokenBucket, tries: int) -> int:
    return sum(1 for _ in range(tries) if bucket.try_take() == 0.0)


def test_a_database_bucket_grants_its_capacity_then_says_how_long_to_wait(db):
    bucket = TokenBucket("sms", SLOW, capacity=3, store=DatabaseBuckets(), prefix="t:")
    assert grants(bucket, 10) == 3
    assert 0 < bucket.try_take() <= 1 / SLOW


def test_a_database_bucket_is_shared_by_separate_stores(db):
    first = TokenBucket("sms", SLOW, capacity=4, store=DatabaseBuckets(), prefix="t:")
    second = TokenBucket("sms", SLOW, capacity=4, store=DatabaseBuckets(), prefix="t:")
    assert grants(first, 3) == 3
    assert grants(second, 3) == 1  # the other "worker" already took three of the four


def test_tokens_taken_ahead_are_dropped_when_not_used_in_time(db):
    # 40 a second, at most 10 saved up: a take from the database brings 10 tokens at once.
    bucket = TokenBucket("sms", 40.0, capacity=10, store=DatabaseBuckets(), prefix="t:")
    assert bucket.try_take() == 0.0  # one used, nine held by this store
    time.sleep(TAKE_AHEAD_S + 0.05)  # the nine are too old now; the shared bucket is full
    # Kept, the nine would come on top of the ten the database holds (and what refills
    # while this runs, one every 25 ms): nine more than that.
    started = time.monotonic()
    granted = grants(bucket, 30)
    refilled = int((time.monotonic() - started) * 40) + 1
    assert granted <= 10 + refilled


# --- two processes ---------------------------------------------------------------------------

RATE = 20
MEMBERS = 300  # more than one claim's batch: each process claims one batch of its own


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    with TwilioStub() as stub:
        yield stub


@pytest.fixture
def site(tmp_path: Path, twilio: TwilioStub) -> Iterator[Site]:
    site = make_site(
        tmp_path, TASKS_BACKEND="database", REDIS_URL="", SMS_BACKEND="twilio",
        TWILIO_API_BASE=twilio.base_url, TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32,
        SMS_RATE_PER_SECOND=str(RATE), DELIVERY_CONCURRENCY="4")
    try:
        yield site
    finally:
        site.cleanup()


DRAIN = """
import django; django.setup()
from rapidresponse.delivery import outbox
print(outbox.drain(max_batches=1))
"""


def test_two_workers_without_redis_send_at_the_configured_rate_not_twice_it(site, twilio):
    assert seed_in(site, MEMBERS) == MEMBERS
    drains = [subprocess.Popen([sys.executable, "-c", DRAIN], cwd=ROOT, env=site.env,
                               stdout=subprocess.PIPE, text=True) for _ in range(2)]
    sent = []
    for drain in drains:
        out, _ = drain.communicate(timeout=300)
        assert drain.returncode == 0
        sent.append(int(out.strip().splitlines()[-1]))
    assert sorted(sent) == [MEMBERS - 200, 200]  # both processes sent their own batch
    assert status_counts(site) == {"sent": MEMBERS}
    times = sorted(r.at for r in twilio.requests)
    # A full bucket (one second's worth) at once, then RATE a second, for both together.
    # Each process on its own bucket would be done in about half the time.
    least = (MEMBERS - RATE) / RATE
    assert times[-1] - times[0] >= 0.9 * least
    assert len(twilio.messages) == MEMBERS
