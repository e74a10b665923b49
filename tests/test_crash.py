"""The crash test: a fan-out of 20,000 SMS to a Twilio stub running as its own process, the
worker killed with SIGKILL part-way and started again. Every delivery must reach the stub,
and none may reach it twice: what was in flight when the worker died is reconciled with the
stub (it lists messages by number) instead of being sent again.

Marked `crash` (it takes a minute or two); CI runs it in a step of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine_support import ROOT, Site, make_site, seed_in, status_counts, wait_until
from tests.stubs.twilio_stub import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

pytestmark = pytest.mark.crash

MEMBERS = 20_000
KILL_AFTER = 5_000  # messages at the stub before the worker is killed
IN_FLIGHT = 4  # of them taken by the stub but not answered when the worker dies


class StubProcess:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.stubs.twilio_stub", "--port", "0"], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().strip())
        self.base_url = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + "/_stub/stats", timeout=30) as answer:
            return json.load(answer)  # type: ignore[no-any-return]

    def hang_next(self, times: int, seconds: float) -> None:
        """The next `times` messages are created but answered only after `seconds`."""
        request = urllib.request.Request(
            self.base_url + "/_stub/fail", method="POST",
            data=json.dumps({"mode": "hang", "seconds": seconds, "times": times}).encode())
        with urllib.request.urlopen(request, timeout=30):
            pass

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)


@pytest.fixture
def twilio_process() -> Iterator[StubProcess]:
    stub = StubProcess()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def site(tmp_path: Path, twilio_process: StubProcess) -> Iterator[Site]:
    site = make_site(
        tmp_path, TASKS_BACKEND="database", REDIS_URL="", SMS_BACKEND="twilio",
        TWILIO_API_BASE=twilio_process.base_url, TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEFAULT_AUTH_TOKEN, TWILIO_MESSAGING_SERVICE_SID="MG" + "0" * 32,
        SMS_RATE_PER_SECOND="0", DELIVERY_LEASE_SECONDS="10")
    try:
        yield site
    finally:
        site.cleanup()


def start_worker(site: Site, log: Path) -> subprocess.Popen[bytes]:
    return site.worker(log)


def test_a_worker_killed_mid_fan_out_loses_nothing_and_sends_nothing_twice(
        site, twilio_process, tmp_path):
    assert seed_in(site, MEMBERS) == MEMBERS
    log = tmp_path / "worker.log"

    first = start_worker(site, log)
    alive = lambda: None if first.poll() is None else log.read_text()[-3000:]  # noqa: E731
    try:
        wait_until(lambda: twilio_process.stats()["created"] >= KILL_AFTER, give_up_after=600,
                   what=f"{KILL_AFTER} messages at the stub", alive=alive)
        # Make sure messages are in flight at the kill: the stub takes the next few but
        # holds its answers, so the worker dies not knowing they were sent.
        twilio_process.hang_next(IN_FLIGHT, seconds=120)
        seen = twilio_process.stats()["requests"]
        wait_until(lambda: twilio_process.stats()["requests"] >= seen + 20, give_up_after=600,
                   what="the held messages to be taken", alive=alive)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    at_kill = status_counts(site)
    assert at_kill.get("sent", 0) < MEMBERS  # killed part-way
    assert at_kill.get("sending", 0) > 0  # with claimed work in flight

    second = start_worker(site, log)
    try:
        wait_until(lambda: status_counts(site) == {"sent": MEMBERS}, give_up_after=900,
                   what="every delivery sent after the restart",
                   alive=lambda: None if second.poll() is None else log.read_text()[-3000:])
    finally:
        second.terminate()
        second.wait(timeout=30)

    stats = twilio_process.stats()
    assert stats["duplicates"] == {}
    # The ones in flight were found at the stub (by number and time) and marked sent with
    # the SID found there (they were never attempted again: no attempt was counted).
    reconciled = site.query("SELECT COUNT(*) FROM delivery_delivery WHERE attempts = 0")
    assert reconciled[0][0] >= IN_FLIGHT
    # Every delivery names its own message at the stub.
    sids = site.query("SELECT COUNT(DISTINCT provider_id) FROM delivery_delivery "
                      "WHERE provider_id LIKE 'SM%'")
    assert sids[0][0] == MEMBERS
    assert stats["unique"] == MEMBERS
    assert stats["created"] == MEMBERS
