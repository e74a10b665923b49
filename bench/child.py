"""One benchmark process: one database, one size. Run by `python -m bench`, not by hand.

    python -m bench.child --database URL --size N --var-dir DIR --result FILE

It (re)creates the bench database named by URL, migrates it, generates the members, measures
each scenario and writes a JSON list of results to FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import dj_database_url


def recreate_database(url: str, *, create: bool = True) -> None:
    """Start from nothing: delete the SQLite file, or drop and create the PostgreSQL database.

    With create=False, only delete or drop it (the clean-up after a run).
    """
    config = dj_database_url.parse(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        path = Path(config["NAME"])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(dbname="postgres", host=config.get("HOST") or None,
                         port=config.get("PORT") or None, user=config.get("USER") or None,
                         password=config.get("PASSWORD") or None, autocommit=True) as conn:
        name = sql.Identifier(config["NAME"])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def run(database: str, size: int, var_dir: str, repeats: int, seed: int,
        keep: bool = False, first_rounds: int = 20) -> list[dict[str, Any]]:
    os.environ["DATABASE_URL"] = database
    os.environ["RR_VAR_DIR"] = var_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "rapidresponse.settings"
    recreate_database(database)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import data, fanout

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - started
    generated = data.generate(size, seed=seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    vendor = connection.vendor
    print(f"  {vendor}: {size:,} members ({generated.active:,} active), "
          f"{generated.contacts:,} contacts, {generated.watch_areas:,} watch areas "
          f"generated in {generated.seconds:.1f} s", flush=True)

    results = []
    for scenario in fanout.SCENARIOS:
        measured = fanout.measure(scenario, repeats)
        first = measured.first + fanout.measure_first(scenario, first_rounds)
        seconds = fanout.median(measured.ours)
        limit = fanout.median(measured.raw)
        results.append({
            "name": f"{vendor} fan-out, {size:,} members, {scenario.label}",
            "seconds": round(seconds, 6),
            "limit_seconds": round(limit, 6),
            "ratio": round(seconds / limit, 3) if limit else None,
            # Confirmation -> first deliverable rows committed (the drain may send them).
            "first_seconds": round(fanout.median(first), 6),
            "first_p95_seconds": round(fanout.p95(first), 6),
            "first_samples": [round(s, 6) for s in first],
            "first_rows": measured.first_rows,
            "chunks": measured.chunks,
            "database": vendor,
            "members": size,
            "active_members": generated.active,
            "scenario": scenario.slug,
            "alert_radius_m": scenario.radius_m,
            "alert_cells": measured.alert_cells,
            "recipients": measured.recipients,
            "rows": measured.rows,
            "raw_rows": measured.raw_rows,
            "same_rows": measured.same_rows,
            "samples": [round(s, 6) for s in measured.ours],
            "raw_samples": [round(s, 6) for s in measured.raw],
            "cpu_seconds": round(fanout.median(measured.ours_cpu), 6),
            "limit_cpu_seconds": round(fanout.median(measured.raw_cpu), 6),
            "generate_seconds": round(generated.seconds, 2),
            "migrate_seconds": round(migrate_seconds, 2),
        })
        print(f"  {results[-1]['name']}: {measured.recipients:,} recipients, "
              f"{measured.rows:,} rows, ours {seconds:.3f} s, raw {limit:.3f} s, first rows "
              f"after {fanout.median(first):.3f} s (p95 {fanout.p95(first):.3f} s)", flush=True)
    connection.close()
    if not keep:
        recreate_database(database, create=False)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("--database", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--var-dir", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--first-rounds", type=int, default=20,
                        help="extra confirmations timed for confirmation -> first rows")
    args = parser.parse_args(argv)
    results = run(args.database, args.size, args.var_dir, args.repeats, args.seed, args.keep,
                  args.first_rounds)
    Path(args.result).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
