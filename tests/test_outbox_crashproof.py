"""A worker that dies at the worst moments: between a permanent failure and the member's
next channel, and while reconciles guess which provider message was a lost send's.

Real worker processes (and sweeps in processes of their own) on a database of their own, a
Twilio stub on loopback; the crash is a SIGKILL (PostgreSQL: while the worker is inside the
transaction that writes the failure, held there by a trigger) or, on SQLite, a trigger that
aborts the write of the next channel's delivery, as a crash at that point would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_support import ROOT, Site, make_site, wait_until
from tests.stubs.twilio_stub import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioStub

ANA = "+12135550142"


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
        SMS_RATE_PER_SECOND="0", DELIVERY_LEASE_SECONDS="10", DELIVERY_CONCURRENCY="2")
    try:
        yield site
    finally:
        site.cleanup()


SETUP = """
import django; django.setup()
from rapidresponse.delivery import outbox
from rapidresponse.members.models import Member
from tests.conftest import make_member
"""


def run(site: Site, code: str) -> str:
    return site.python(SETUP + code).strip().splitlines()[-1]


def postgres(site: Site) -> bool:
    return not site.database_url.startswith("sqlite")


CRASH_TRIGGER_SQLITE = """
CREATE TRIGGER crash_here BEFORE INSERT ON delivery_delivery WHEN NEW.channel = 'email'
BEGIN SELECT RAISE(ABORT, 'the worker died here'); END;
"""
CRASH_TRIGGER_PG = """
CREATE FUNCTION crash_here() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(600); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER crash_here BEFORE INSERT ON delivery_delivery FOR EACH ROW
WHEN (NEW.channel = 'email') EXECUTE FUNCTION crash_here();
"""


def execute(site: Site, sql: str) -> None:
    if postgres(site):
        import psycopg

        with psycopg.connect(site.database_url.replace("postgres://", "postgresql://", 1),
                             autocommit=True) as db:
            db.execute(sql)  # type: ignore[arg-type]
    else:
        import sqlite3

        with sqlite3.connect(site.database_url[len("sqlite:///"):], timeout=30) as db:
            db.executescript(sql)


def start(site: Site, log: Path) -> subprocess.Popen[bytes]:
    return site.worker(log)


def kill(worker: subprocess.Popen[bytes]) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def test_a_worker_killed_between_a_failure_and_the_next_channel_still_hands_the_message_on(
        site, twilio, tmp_path):
    twilio.fail_to(ANA, 400, code=21211)  # Twilio refuses Ana's number for good
    message = int(run(site, f"""
ana = make_member("Ana", "en", phone="{ANA}", email="ana@example.org")
print(outbox.send_to_member(ana, "alert", {{"en": {{"text": "ICE at 1st and Soto"}}}},
                            channels=["sms"]).pk)
"""))
    execute(site, CRASH_TRIGGER_PG if postgres(site) else CRASH_TRIGGER_SQLITE)
    log = tmp_path / "worker.log"
    first = start(site, log)
    try:
        if postgres(site):
            # The worker is inside the transaction that writes the failure and the email.
            wait_until(lambda: bool(site.query(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                "AND datname = current_database()")), give_up_after=120,
                what="the worker to reach the next channel's insert")
        else:
            wait_until(lambda: "the worker died here" in log.read_text(errors="replace"),
                       give_up_after=120, what="the worker to reach the next channel's insert")
    finally:
        kill(first)
    if postgres(site):  # the server notices its client is gone
        site.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE wait_event = 'PgSleep' AND datname = current_database()")
    execute(site, "DROP TRIGGER crash_here ON delivery_delivery;" if postgres(site)
            else "DROP TRIGGER crash_here;")
    # Neither half was written: the SMS is still claimed, with no email in its place.
    assert site.query(f"SELECT channel, status FROM delivery_delivery "
                      f"WHERE message_id = {message}") == [("sms", "sending")]

    second = start(site, log)
    try:
        wait_until(lambda: site.query(
            f"SELECT channel, status FROM delivery_delivery WHERE message_id = {message} "
            "ORDER BY channel") == [("email", "sent"), ("sms", "failed")],
            give_up_after=120, what="the alert to go out by email instead")
    finally:
        second.terminate()
        second.wait(timeout=30)
    emails = site.query("SELECT COUNT(*) FROM delivery_consolemessage WHERE channel = 'email'")
    assert emails == [(1,)]
    assert [m.sid for m in twilio.messages] == []  # Twilio never took the SMS


# --- reconciles that race ----------------------------------------------------------------

LOST = """
from datetime import timedelta
from django.utils import timezone
from rapidresponse.channels.sms.twilio import TwilioSmsBackend
from rapidresponse.delivery.models import Delivery
from rapidresponse.delivery.transport import Outbound
ana = make_member("Ana", "en", phone="{phone}")
ids = []
for text in ("Meeting at 6", "Meeting moved to 7"):
    message = outbox.send_to_member(ana, "notice", {{"en": {{"text": text}}}})
    (claimed,) = outbox.claim_batch()  # ... the worker claims it and dies
    ids.append(claimed.pk)
first = Delivery.objects.get(pk=ids[0])
# The first reached Twilio before the worker died (its answer was never written down).
TwilioSmsBackend().send(Outbound(
    delivery_id=first.pk, member_id=ana.pk, channel="sms", to="{phone}", to_masked="",
    language="en", subject="", text="Meeting at 6", is_drill=False, kind="notice"))
print(ids)
"""
STALE = """
from datetime import timedelta
from django.utils import timezone
from rapidresponse.delivery.models import Delivery
print(Delivery.objects.filter(pk__in={ids}).update(
    claimed_at=timezone.now() - timedelta(seconds=70)))
"""


def deliveries(site: Site) -> dict[int, tuple[str, str]]:
    return {pk: (status, provider_id) for pk, status, provider_id in site.query(
        "SELECT id, status, provider_id FROM delivery_delivery")}


def settle(site: Site) -> None:
    """Time passes and the worker's sweeps run until nothing is left to ask about."""
    run(site, """
from django.db.models import F
from rapidresponse.delivery.models import Delivery
for _ in range(5):
    Delivery.objects.filter(status="unknown").update(next_attempt_at=F("created_at"))
    outbox.reconcile_unknown()
    outbox.drain()
print("ok")
""")


def each_has_its_own_message(site: Site, twilio: TwilioStub) -> None:
    rows = deliveries(site)
    assert {status for status, _ in rows.values()} == {"sent"}
    for pk, (_status, sid) in rows.items():
        assert twilio.message(sid).key == f"d:{pk}"  # the message made for this delivery
    assert len(twilio.messages) == len(rows)
    assert twilio.duplicates() == {}


def test_two_reconciles_never_match_one_message_to_two_deliveries(site, twilio):
    first, second = eval(run(site, LOST.format(phone=ANA)))  # noqa: S307 - our own output
    run(site, STALE.format(ids=[first, second]))
    # One asks about the first as a stale claim while the other asks about the second as
    # an unknown send: both list Ana's messages at the same moment and find one message.
    run(site, f"""
from rapidresponse.delivery.models import Delivery
Delivery.objects.filter(pk={second}).update(status="unknown", next_attempt_at=F("created_at"))
print("ok")
""".replace("from rapidresponse", "from django.db.models import F\nfrom rapidresponse", 1))
    twilio.hold_lists(2)
    sweeps = [subprocess.Popen([sys.executable, "-c", SETUP + f"print(outbox.{job}())"],
                               cwd=ROOT, env=site.env, stdout=subprocess.PIPE, text=True)
              for job in ("sweep_stale_claims", "reconcile_unknown")]
    for sweep in sweeps:
        assert sweep.wait(timeout=120) == 0
    rows = deliveries(site)
    [message] = twilio.messages
    holders = [pk for pk, (_status, sid) in rows.items() if sid == message.sid]
    assert len(holders) == 1  # one delivery has it; the other is not taken for sent
    [other] = [pk for pk in (first, second) if pk not in holders]
    # Asked again later, or (when its sweep listed after the winner wrote) queued again:
    # never taken for sent with the other's message.
    assert rows[other][0] in ("unknown", "queued") and rows[other][1] == ""
    settle(site)
    # Without the bodies Twilio cannot tell which text it took: it counts as the one that
    # won the race, and the other is sent once more.
    assert {status for status, _ in deliveries(site).values()} == {"sent"}
    assert len(twilio.messages) == 2
    assert len({sid for _status, sid in deliveries(site).values()}) == 2


def test_a_reconcile_never_takes_the_message_of_a_send_not_yet_written_down(
        site, twilio, tmp_path):
    first, second = eval(run(site, LOST.format(phone=ANA)))  # noqa: S307 - our own output
    twilio.hang_next(20.0)  # the next send reaches Twilio; its answer comes 20 s later
    third = int(run(site, """
print(outbox.send_to_member(Member.objects.get(name="Ana"), "notice",
                            {"en": {"text": "Bring water"}}).deliveries.get().pk)
"""))
    # A lease longer than the provider's time-out, as in any real set-up (the default is 120
    # s), and shorter than how long ago the lost sends were claimed (STALE).
    slow = {"DELIVERY_LEASE_SECONDS": "60", "OUTBOUND_HTTP_TIMEOUT": "30"}
    worker = site.worker(tmp_path / "worker.log", **slow)
    try:
        wait_until(lambda: len(twilio.messages) == 2, give_up_after=120,
                   what="the third notice to reach Twilio")
        in_flight = twilio.messages[1].sid
        # Now the two lost sends look abandoned, and two sweeps (and the worker's own) ask
        # Twilio about them while the third's answer is still on its way.
        run(site, STALE.format(ids=[first, second]))
        sweeps = [subprocess.Popen([sys.executable, "-c",
                                    SETUP + "print(outbox.sweep_stale_claims())"],
                                   cwd=ROOT, env={**site.env, **slow}, stdout=subprocess.PIPE,
                                   text=True)
                  for _ in range(2)]
        for sweep in sweeps:
            assert sweep.wait(timeout=120) == 0
        rows = deliveries(site)
        assert rows[third][0] == "sending"  # still in flight while they asked
        assert in_flight not in {sid for _status, sid in rows.values()}
        wait_until(lambda: deliveries(site)[third] == ("sent", in_flight), give_up_after=60,
                   what="the third notice to be written down with its own message")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    settle(site)
    each_has_its_own_message(site, twilio)
    assert len(twilio.messages) == 3  # the first's, the third's, and the second's, once
