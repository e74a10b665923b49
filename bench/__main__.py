"""`python -m bench`: alert fan-out figures on SQLite and, when DATABASE_URL names one, PostgreSQL.

    python -m bench                      # 10k, 100k and 500k members
    python -m bench --quick              # 10k only (for CI)
    python -m bench --sizes 10000,100000
    python -m bench --delivery           # the delivery benchmarks only (bench.delivery)
    python -m bench --delivery --messages 1000 --alerts 10   # smaller delivery runs

The full run (neither --quick nor --sizes) also runs the delivery benchmarks.

Each (database, size) runs in its own process (`bench.child`) on its own database: a SQLite
file under var/bench/ and, for PostgreSQL, DATABASE_URL's database name with `_bench` added.
The user's own database is never touched. Results go to var/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = [10_000, 100_000, 500_000]
TARGET_RATIO = 1.2  # the whole fan-out, chunks and all, against one raw statement
TARGET_SQLITE_500K_SECONDS = 3.0
TARGET_FIRST_P95_SECONDS = 0.25  # confirmation -> first deliverable rows committed


def bench_database_urls(var_dir: Path, environ: dict[str, str]) -> list[str]:
    """SQLite always; PostgreSQL too when DATABASE_URL points there, as <name>_bench (always a
    different database from the one named, since the bench drops and recreates it)."""
    urls = [f"sqlite:///{(var_dir / 'bench' / 'fanout.sqlite3').resolve()}"]
    configured = environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(configured)
        name = parts.path.lstrip("/") or "rapidresponse"
        urls.append(urlunsplit(parts._replace(path=f"/{name}_bench")))
    return urls


def parse_sizes(raw: str) -> list[int]:
    sizes = []
    for item in raw.split(","):
        item = item.strip().lower().replace("_", "")
        if not item:
            continue
        factor = 1
        if item.endswith("k"):
            item, factor = item[:-1], 1000
        value = int(item) * factor
        if value < 10:
            raise argparse.ArgumentTypeError("a size is a number of members, at least 10")
        sizes.append(value)
    if not sizes:
        raise argparse.ArgumentTypeError("give at least one size")
    return sizes


def run_child(database: str, size: int, var_dir: Path, repeats: int, seed: int,
              keep: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_DIR)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        command = [sys.executable, "-m", "bench.child", "--database", database,
                   "--size", str(size), "--var-dir", str(var_dir / "bench"),
                   "--result", str(result), "--repeats", str(repeats), "--seed", str(seed)]
        if keep:
            command.append("--keep")
        subprocess.run(command, check=True, cwd=PROJECT_DIR, env=env)
        loaded: list[dict[str, Any]] = json.loads(result.read_text())
        return loaded


def table(results: list[dict[str, Any]]) -> str:
    # CPU time is shown for SQLite only, where the database works inside this process.
    header = ("benchmark", "recipients", "rows", "first s", "first p95", "ours s", "raw s",
              "ratio", "ours cpu s", "raw cpu s")
    rows = [header] + [
        (r["name"], f"{r['recipients']:,}", f"{r['rows']:,}", f"{r['first_seconds']:.3f}",
         f"{r['first_p95_seconds']:.3f}", f"{r['seconds']:.3f}",
         f"{r['limit_seconds']:.3f}", f"{r['ratio']:.2f}" if r["ratio"] is not None else "-",
         f"{r['cpu_seconds']:.3f}" if r["database"] == "sqlite" else "-",
         f"{r['limit_cpu_seconds']:.3f}" if r["database"] == "sqlite" else "-")
        for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                          strict=True)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    notes = []
    for r in results:
        if not r["same_rows"] or r["rows"] != r["raw_rows"]:
            notes.append(f"WRONG: {r['name']}: the fan-out wrote {r['rows']:,} rows, "
                         f"the raw statement {r['raw_rows']:,}, or different ones")
        if r["first_p95_seconds"] > TARGET_FIRST_P95_SECONDS:
            notes.append(f"slow: {r['name']}: first rows after {r['first_p95_seconds']:.3f} s "
                         f"(p95) > {TARGET_FIRST_P95_SECONDS} s")
        if r["ratio"] is not None and r["ratio"] > TARGET_RATIO:
            notes.append(f"slow: {r['name']}: ratio {r['ratio']:.2f} > {TARGET_RATIO}")
        if (r["database"] == "sqlite" and r["recipients"] >= 450_000
                and r["seconds"] > TARGET_SQLITE_500K_SECONDS):
            notes.append(f"slow: {r['name']}: {r['seconds']:.2f} s > "
                         f"{TARGET_SQLITE_500K_SECONDS} s for {r['recipients']:,} recipients")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="comma-separated member counts (default 10000,100000,500000)")
    parser.add_argument("--quick", action="store_true", help="10,000 members only")
    parser.add_argument("--repeats", type=int, default=0,
                        help="timed rounds per scenario (default 5 up to 20k members, else 3)")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--var-dir", type=Path, default=PROJECT_DIR / "var",
                        help="bench databases go in VAR_DIR/bench (default var/)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the JSON (default VAR_DIR/bench.json)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the bench databases afterwards (default: delete them)")
    parser.add_argument("--delivery", action="store_true",
                        help="only the delivery benchmarks (SMS throughput, confirmation latency)")
    parser.add_argument("--messages", type=int, default=0,
                        help="SMS per delivery throughput run (default 5000)")
    parser.add_argument("--alerts", type=int, default=50,
                        help="alerts timed for confirmation-to-first-request (default 50)")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else (args.sizes or DEFAULT_SIZES)
    full_run = not args.quick and args.sizes is None
    var_dir: Path = args.var_dir.resolve()
    out: Path = args.out or var_dir / "bench.json"

    results: list[dict[str, Any]] = []
    if args.delivery:
        return run_delivery(var_dir, out, messages=args.messages, alerts=args.alerts)
    for database in bench_database_urls(var_dir, dict(os.environ)):
        for size in sizes:
            repeats = args.repeats or (5 if size <= 20_000 else 3)
            print(f"{database.split(':', 1)[0]}: {size:,} members ...", flush=True)
            results.extend(run_child(database, size, var_dir, repeats, args.seed, args.keep))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print()
    notes = verdicts(results)
    for note in notes:
        print(note)
    if not notes:
        print(f"All within target (confirmation -> first rows p95 <= "
              f"{TARGET_FIRST_P95_SECONDS} s; whole fan-out / raw <= {TARGET_RATIO}; SQLite "
              f"500k recipients <= {TARGET_SQLITE_500K_SECONDS} s).")
    failed = any(n.startswith("WRONG") for n in notes)
    if full_run:
        failed = bool(run_delivery(var_dir, out, results, messages=args.messages,
                                   alerts=args.alerts)) or failed
    else:
        print(f"Wrote {out}")
    return 1 if failed else 0


def run_delivery(var_dir: Path, out: Path, earlier: list[dict[str, Any]] | None = None, *,
                 messages: int = 0, alerts: int = 50) -> int:
    """The delivery benchmarks; their results are written after `earlier` ones."""
    from bench import delivery

    results = delivery.run(var_dir, messages or delivery.MESSAGES, alerts)
    if earlier is None and out.exists():  # --delivery: keep the fan-out figures already there
        try:
            earlier = [r for r in json.loads(out.read_text())
                       if not str(r.get("kind", "")).startswith(("delivery", "confirmation"))]
        except (ValueError, AttributeError):
            earlier = []
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps((earlier or []) + results, indent=2) + "\n")
    print()
    print(delivery.table(results))
    print()
    notes = delivery.verdicts(results)
    for note in notes:
        print(note)
    print(f"Wrote {out}")
    return 1 if any(n.startswith("WRONG") for n in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
