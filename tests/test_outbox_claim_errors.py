"""A drain whose claim fails says so at once: it neither hangs nor loses what it held."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from rapidresponse.delivery.outbox import claims, draining
from rapidresponse.lib.connections import refresh_connections


def test_a_claim_that_fails_raises_instead_of_leaving_the_drain_waiting(db, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(claims, "claim", broken)
    with pytest.raises(RuntimeError, match="went away"):
        draining.drain(max_seconds=5)


def test_a_task_run_inside_its_callers_transaction_keeps_the_connection(db, settings):
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    assert connection.in_atomic_block  # the test's own transaction
    before = connection.connection
    refresh_connections()
    assert connection.connection is before is not None
