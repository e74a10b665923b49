"""Real worker processes (`manage.py worker`) on a database of their own: an alert fan-out is
delivered by several of them, through the database task queue and through RQ on Redis, to a
Twilio stub on loopback that counts every message it is given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_support import (
    Site,
    exited,
    make_site,
    redis_available,
    redis_url,
    seed_in,
    status_counts,
    wait_until,
    workers,
)
from tests.stubs.twilio_stub import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioStub

MEMBERS = 400


@pytest.fixture
def twilio() -> Iterator[TwilioStub]:
    with TwilioStub() as stub:
        yield stub


def twilio_env(stub: TwilioStub) -> dict[str, str]:
    return {"SMS_BACKEND": "twilio", "TWILIO_API_BASE": stub.base_url,
            "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
            "TWILIO_FROM_NUMBERS": "+12135550001,+12135550002",
            "SMS_RATE_PER_SECOND": "0", "DELIVERY_CONCURRENCY": "4"}


@pytest.fixture
def site(tmp_path: Path, twilio: TwilioStub) -> Iterator[Site]:
    site = make_site(tmp_path, **twilio_env(twilio))
    try:
        yield site
    finally:
        site.cleanup()


def rq_queue_empty() -> None:
    """Nothing left over from another run in the test Redis's queue."""
    import redis

    connection = redis.Redis.from_url(redis_url())
    for key in connection.scan_iter("rq:*"):
        connection.delete(key)


@pytest.mark.parametrize("backend", [
    "database",
    pytest.param("rq", marks=pytest.mark.skipif(not redis_available(),
                                                reason="no Redis on 127.0.0.1:6379")),
])
def test_worker_processes_deliver_a_fan_out_once_each(site, twilio, tmp_path, backend):
    extra = {"TASKS_BACKEND": backend}
    if backend == "rq":
        rq_queue_empty()
        extra["REDIS_URL"] = redis_url()
    else:
        extra["REDIS_URL"] = ""
    site.env.update(extra)
    assert seed_in(site, MEMBERS) == MEMBERS
    assert status_counts(site) == {"queued": MEMBERS}
    with workers(site, 3, tmp_path) as procs:
        wait_until(lambda: status_counts(site) == {"sent": MEMBERS}, give_up_after=300,
                   what="every delivery sent", alive=exited(procs, tmp_path))
    stats = twilio.stats()
    assert stats["created"] == MEMBERS
    assert stats["unique"] == MEMBERS
    assert stats["duplicates"] == {}
    # Each delivery's provider id is the message the stub created for it.
    sids = {sid for (sid,) in site.query("SELECT provider_id FROM delivery_delivery")}
    assert sids == {m.sid for m in twilio.messages}
    # The task queue carried the work: drain tasks ran on the workers, and none failed.
    finished, failed = task_outcomes(site, backend)
    assert finished >= 1
    assert failed == 0


def task_outcomes(site: Site, backend: str) -> tuple[int, int]:
    if backend == "rq":
        import redis
        from rq import Queue

        queue = Queue("default", connection=redis.Redis.from_url(redis_url()))
        return queue.finished_job_registry.count, queue.failed_job_registry.count
    rows = dict(site.query("SELECT status, COUNT(*) FROM django_tasks_database_dbtaskresult "
                           "GROUP BY status"))
    return rows.get("SUCCESSFUL", 0), rows.get("FAILED", 0)
