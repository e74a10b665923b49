"""Report intake with the surge breaker on: how many reports a second one process takes.

    python -m bench.intake [--reports 2000] [--var-dir var] [--database URL]

A flood of reports about one place, each from its own phone and network (the worst case for
the breaker: every report is counted, encrypted and clustered), on a database of its own
(var/bench/intake.sqlite3 by default; a PostgreSQL URL's database gets `_bench_intake`
added). Prints the reports a second before the surge (counting) and during it (held).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.child import recreate_database

PROJECT_DIR = Path(__file__).resolve().parent.parent


def database_url(var_dir: Path, configured: str) -> str:
    if configured.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(configured)
        name = parts.path.lstrip("/") or "rapidresponse"
        return urlunsplit(parts._replace(path=f"/{name}_bench_intake"))
    return f"sqlite:///{(var_dir / 'bench' / 'intake.sqlite3').resolve()}"


def run(reports: int, var_dir: Path, database: str) -> dict[str, float]:
    os.environ["DATABASE_URL"] = database
    os.environ["RR_VAR_DIR"] = str(var_dir / "bench")
    os.environ["DJANGO_SETTINGS_MODULE"] = "rapidresponse.settings"
    recreate_database(database)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from rapidresponse.incidents.actions import build_report_input, do_submit_report
    from rapidresponse.incidents.models import Report
    from rapidresponse.lib import geo

    call_command("migrate", verbosity=0, interactive=False)
    place = geo.cell_for(34.0339, -118.2036, settings.H3_MEMBER_RESOLUTION)
    spots = [geo.center(c) for c in geo.children(place, settings.H3_REPORT_RESOLUTION)]
    threshold = settings.SURGE_CELL_REPORTS_PER_10MIN
    times: list[float] = []
    for i in range(reports):
        lat, lng = spots[i % len(spots)]
        data = build_report_input({"latitude": lat, "longitude": lng, "activity": "arrests",
                                   "agency": "ice", "contact": f"+1213{5000000 + i:07d}"})
        data.network = f"198.{i // 250 % 250}.{i % 250}.0/24"
        started = time.perf_counter()
        do_submit_report(data, source="web")
        times.append(time.perf_counter() - started)
    held = Report.objects.filter(held=True).count()
    assert Report.objects.count() == reports and held == reports - threshold
    before, during = times[:threshold], times[threshold:]
    return {"reports": reports, "held": held,
            "before_surge_per_s": len(before) / sum(before),
            "during_surge_per_s": len(during) / sum(during)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--var-dir", type=Path, default=PROJECT_DIR / "var")
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    url = args.database or database_url(args.var_dir, os.environ.get("DATABASE_URL", ""))
    try:
        result = run(args.reports, args.var_dir, url)
    finally:
        recreate_database(url, create=False)
    print(f"report intake ({url.split(':', 1)[0]}): {result['reports']} reports about one "
          f"place, {result['held']} held; {result['before_surge_per_s']:.0f}/s before the "
          f"surge, {result['during_surge_per_s']:.0f}/s during it")


if __name__ == "__main__":
    main()
