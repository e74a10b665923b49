"""Token buckets in the database, for when there is no Redis: every worker process on every
machine that shares the database draws from the same bucket, so N workers together send no
faster than the configured rate (in-process buckets would let them send N times faster).

A take is one atomic UPDATE of the bucket's row. To keep that off the path of every send, a
process takes a few tokens at once (what the rate gives in TAKE_AHEAD_S, at most the
bucket's capacity) and hands them out itself; tokens it has not used TAKE_AHEAD_S later are
dropped. Dropping is what keeps the limit: a token is spent at most once, within
TAKE_AHEAD_S of being taken from the shared bucket, so the workers together never exceed the
rate (a burst is at most one bucket's capacity, as with one worker).

Cost, measured on the 2-core development machine while others were busy on it: a take is
about 0.4 ms (0.06-0.1 ms of CPU) on SQLite and 0.5-0.6 ms of CPU on PostgreSQL, where its
commit does not wait for the disk (a bucket that loses its last take in a crash is
harmless). A process makes at most 4 takes a second per bucket, whatever the rate (at
1,000 SMS a second, under 0.01 ms of CPU per send); the other sender threads wait for a
take in progress, so fewer takes also means fewer stalls (at 20 a second, about 5 % of the
time with the bench's 20 ms provider)."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from django.db import connection, transaction

from rapidresponse.delivery.outbox.writes import write

TAKE_AHEAD_S = 0.25


def _take_sql() -> str:
    pg = connection.vendor == "postgresql"
    least, greatest = ("LEAST", "GREATEST") if pg else ("MIN", "MAX")
    # Tokens there now: refilled at `rate` since `stamp`, at most `capacity`; both columns
    # are computed from the row's old values (SQL evaluates every SET from the old row).
    avail = f"{least}(%s, tokens + {greatest}(0, %s - stamp) * %s)"
    whole = f"FLOOR({avail})::integer" if pg else f"CAST({avail} AS INTEGER)"
    grant = f"{least}(%s, {whole})"
    return (f"UPDATE delivery_ratebucket SET granted = {grant}, "  # noqa: S608 - no input  # nosec B608
            f"tokens = {avail} - {grant}, "
            f"stamp = {greatest}(stamp, %s) WHERE key = %s RETURNING granted, tokens")


_CREATE_SQL = ("INSERT INTO delivery_ratebucket (key, tokens, stamp, granted) "
               "VALUES (%s, %s, %s, 0) ON CONFLICT (key) DO NOTHING")


class DatabaseBuckets:
    """Buckets in the table delivery_ratebucket (same `take` as lib.ratelimit's stores)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, tuple[int, float]] = {}  # key: (tokens, usable until)

    def take(self, key: str, rate: float, capacity: float) -> float:
        """Take one token: 0.0 when one was taken, else the seconds until one will be."""
        with self._lock:
            now = time.monotonic()
            held, until = self._held.get(key, (0, 0.0))
            if held > 0 and now < until:
                self._held[key] = (held - 1, until)
                return 0.0
            want = max(1, min(int(capacity), math.ceil(rate * TAKE_AHEAD_S)))
            granted, left = self._take(key, rate, capacity, want)
            if granted >= 1:
                self._held[key] = (granted - 1, time.monotonic() + TAKE_AHEAD_S)
                return 0.0
            self._held.pop(key, None)
            return max(0.001, (1 - left) / rate)

    def _take(self, key: str, rate: float, capacity: float, want: int) -> tuple[int, float]:
        def run() -> tuple[int, float]:
            now = time.time()
            avail: list[Any] = [capacity, now, rate]
            params = [*([want, *avail]), *avail, *([want, *avail]), now, key]
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # A bucket that loses its last take in a crash is harmless: no need to
                    # wait for the commit to reach the disk (3 ms, against 0.3).
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute(_take_sql(), params)
                row = cursor.fetchone()
                if row is None:  # the first take of this bucket anywhere: a full bucket
                    cursor.execute(_CREATE_SQL, [key, capacity, now])
                    cursor.execute(_take_sql(), params)
                    row = cursor.fetchone()
            return int(row[0]), float(row[1])
        return write(run)


_store: DatabaseBuckets | None = None
_store_lock = threading.Lock()


def database_buckets() -> DatabaseBuckets:
    global _store
    with _store_lock:
        if _store is None:
            _store = DatabaseBuckets()
        return _store
