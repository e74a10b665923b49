"""A provider that hangs (accepts the connection, never answers) must not hold up the
worker's other periodic jobs: the sweeps that ask it about lost sends have a time budget.

A real worker process, a database of its own, and a server on loopback that takes every
connection and never says a word."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_support import Site, make_site, wait_until
from tests.stubs.twilio_stub import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

LOST = 40  # SMS deliveries to ask the provider about: 20 stale claims, 20 unknown sends


class Silent:
    """Accepts connections and keeps them open without reading or answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.held: list[socket.socket] = []
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        self.stopped = True
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def site(tmp_path: Path, silent: Silent) -> Iterator[Site]:
    site = make_site(
        tmp_path, TASKS_BACKEND="database", REDIS_URL="", SMS_BACKEND="twilio",
        TWILIO_API_BASE=silent.url, TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32,
        # Each request to the silent provider would wait this long without the budget.
        OUTBOUND_HTTP_TIMEOUT="30")
    try:
        yield site
    finally:
        site.cleanup()


SEED = f"""
import django; django.setup()
from datetime import timedelta
from django.utils import timezone
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Delivery
from rapidresponse.incidents.models import Incident
from rapidresponse.lib import geo
from tests.conftest import BOYLE, make_member

now = timezone.now()
long_ago = now - timedelta(minutes=10)
rows = []
message = outbox.create_message("alert", {{"en": {{"text": "ICE at 1st and Soto"}}}},
                                is_drill=False)
for i in range({LOST}):
    member = make_member(f"M{{i}}", "en", phone=f"+1213555{{i:04d}}")
    lost = dict(status="sending", claim="dead-worker") if i % 2 else dict(
        status="unknown", claim="timed-out")
    rows.append(Delivery(message=message, member=member, channel="sms", language="en",
                         attempts=1, next_attempt_at=long_ago, claimed_at=long_ago,
                         created_at=long_ago, updated_at=long_ago, **lost))
# An email whose first attempt failed: its retry is due now (no task asks for it: the
# worker's timer must find it).
ana = make_member("Ana", "en", email="ana@example.org")
rows.append(Delivery(message=message, member=ana, channel="email", language="en",
                     attempts=1, next_attempt_at=long_ago, created_at=long_ago,
                     updated_at=long_ago))
Delivery.objects.bulk_create(rows)
Incident.objects.create(state="reported", cell=geo.cell_for(*BOYLE, 9), activity="arrests",
                        agency="ice", first_seen_at=now - timedelta(days=2),
                        last_report_at=now - timedelta(days=2))
print("ok")
"""


def test_a_provider_that_never_answers_does_not_hold_up_retries_or_expiry(site, tmp_path):
    site.python(SEED)
    worker = site.worker(tmp_path / "worker.log")
    started = time.monotonic()
    try:
        # Without a budget the first question alone would take 30 s, and all of them 20
        # minutes. The limit is generous for a slow machine, far short of either.
        wait_until(lambda: site.query(
            "SELECT status FROM delivery_delivery WHERE channel = 'email'") == [("sent",)]
            and site.query("SELECT state FROM incidents_incident") == [("expired",)],
            give_up_after=25, what="the email retry and the incident's expiry",
            alive=lambda: None if worker.poll() is None else "the worker exited")
        waited = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert waited < 25
    # The lost sends are still waiting for an answer, never resent blind, never given up.
    statuses = dict(site.query("SELECT status, COUNT(*) FROM delivery_delivery "
                               "WHERE channel = 'sms' GROUP BY status"))
    assert set(statuses) <= {"sending", "unknown"}
    assert sum(statuses.values()) == LOST
