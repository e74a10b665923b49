"""`make bench` works: its figures are well formed and its two ways of fanning out agree.

The harness runs as the user runs it (`python -m bench`), at a tiny size, into a temporary
directory. Speed is not asserted here; that is what the benchmark itself is for. On a
PostgreSQL run (DATABASE_URL=postgres://…) the bench also runs there, on its own database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    var_dir = tmp_path_factory.mktemp("var")
    out = var_dir / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "300", "--repeats", "2",
         "--var-dir", str(var_dir), "--out", str(out)],
        cwd=PROJECT_DIR, env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return var_dir, json.loads(out.read_text())


def test_bench_writes_a_figure_for_each_scenario_with_its_limit_and_ratio(
        bench_run: tuple[Path, list[dict[str, Any]]]) -> None:
    _var_dir, results = bench_run
    databases = {"sqlite"} | ({"postgresql"} if os.environ.get("DATABASE_URL", "")
                              .startswith("postgres") else set())
    assert {r["database"] for r in results} == databases
    assert len({r["name"] for r in results}) == len(results) == 2 * len(databases)
    for r in results:
        assert isinstance(r["name"], str) and "300 members" in r["name"]
        assert r["seconds"] > 0 and r["limit_seconds"] > 0
        assert r["ratio"] == pytest.approx(r["seconds"] / r["limit_seconds"], rel=0.01)


def test_fan_out_writes_exactly_the_rows_of_the_raw_statement(
        bench_run: tuple[Path, list[dict[str, Any]]]) -> None:
    _var_dir, results = bench_run
    for r in results:
        assert r["recipients"] > 0
        assert r["rows"] == r["raw_rows"] >= r["recipients"]
        assert r["same_rows"] is True


def test_bench_leaves_no_database_behind_and_never_makes_the_users(
        bench_run: tuple[Path, list[dict[str, Any]]]) -> None:
    var_dir, _results = bench_run
    assert not (var_dir / "rapidresponse.sqlite3").exists()
    assert not list((var_dir / "bench").glob("*.sqlite3*"))
