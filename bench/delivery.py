"""Delivery figures: SMS throughput of `worker` processes to a Twilio stub that answers
after 20 ms (next to a bare httpx client at the same concurrency), and the time from a
verifier's confirmation to the first provider request.

Everything runs on its own SQLite file under var/bench/ and a stub on 127.0.0.1; the
Twilio stub is tests/stubs/twilio_stub.py, in its own process for the throughput run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

PROJECT_DIR = Path(__file__).resolve().parent.parent
STUB_DELAY_MS = 20
TARGET_RATIO = 1.25  # one worker process at least 80 % of the bare client's rate
TARGET_SCALE = {"postgresql": 1.6, "sqlite": 1.0}  # two processes against one
TARGET_P95_S = 1.0
# The project's default DELIVERY_CONCURRENCY (rapidresponse/settings.py); both our workers
# and the bare client run at this concurrency unless DELIVERY_CONCURRENCY is set.
DEFAULT_THREADS = 16
MESSAGES = 5000
ACCOUNT_SID = "AC" + "0" * 31 + "1"  # the stub's defaults
AUTH_TOKEN = "stub-auth-token-0123456789abcdef"
SERVICE_SID = "MG" + "0" * 31 + "1"


def databases(var_dir: Path, environ: dict[str, str]) -> list[tuple[str, str]]:
    """(label, URL) of the databases the throughput runs on: SQLite always, and PostgreSQL
    as <DATABASE_URL's name>_bench_delivery when DATABASE_URL points there."""
    found = [("sqlite", f"sqlite:///{(var_dir / 'bench' / 'delivery.sqlite3').resolve()}")]
    configured = environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://", "pgsql://")):
        parts = urlsplit(configured)
        name = parts.path.lstrip("/") or "rapidresponse"
        found.append(("postgresql", urlunsplit(parts._replace(path=f"/{name}_bench_delivery"))))
    return found


def _env(var_dir: Path, name: str, stub_url: str = "", database_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TASKS_BACKEND")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR)] + (
            [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])),
        "DJANGO_SETTINGS_MODULE": "rapidresponse.settings",
        "DATABASE_URL": database_url or f"sqlite:///{(var_dir / 'bench' / name).resolve()}",
        "RR_VAR_DIR": str(var_dir / "bench"),
        "TASKS_BACKEND": "database",
        "SMS_BACKEND": "twilio",
        "EMAIL_CHANNEL_BACKEND": "console",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE_SID,
        "TWILIO_FROM_NUMBERS": "",
        "TWILIO_API_BASE": stub_url,
        "PUBLIC_URL": "https://alerts.example.org",
        "SMS_RATE_PER_SECOND": "1000000",
        "BENCH_STUB_DELAY_MS": str(STUB_DELAY_MS),
        "LOG_LEVEL": "WARNING",
    })
    return env


def _child(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.delivery_child", *args], cwd=PROJECT_DIR,
                          env=env, check=True, stdout=subprocess.PIPE, text=True)
    loaded: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _start_stub() -> tuple[subprocess.Popen[str], str]:
    stub = subprocess.Popen(
        [sys.executable, "-m", "tests.stubs.twilio_stub", "--port", "0",
         "--delay-ms", str(STUB_DELAY_MS)], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    assert stub.stdout is not None
    port = int(stub.stdout.readline().strip())
    return stub, f"http://127.0.0.1:{port}"


def _stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def _busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 3) if total > 0 else float("nan")


def _stats(url: str) -> dict[str, Any]:
    loaded: dict[str, Any] = httpx.get(f"{url}/_stub/stats", timeout=10).json()
    return loaded


def _wait_idle(pids: list[int], least: float = 4.0, timeout: float = 120.0) -> None:
    """Wait until the workers have started (Django set up, warm-up done, first poll) and are
    idle: at least `least` seconds, then until none of them used more than 5 % of a core over
    half a second. On a busy machine two workers starting at once take longer than a fixed
    pause, and their start-up must not count as the cost of sending."""
    time.sleep(least)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        before = [_cpu_seconds(pid) for pid in pids]
        time.sleep(0.5)
        used = [_cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
        if all(u <= 0.025 for u in used):
            return


def _ours(env: dict[str, str], url: str, count: int, processes: int, stub_pid: int
          ) -> tuple[float, dict[str, Any]]:
    httpx.post(f"{url}/_stub/reset", json={}, timeout=10)
    command = [sys.executable, "manage.py", "worker", "--verbosity", "0"]
    profiles = os.environ.get("BENCH_PROFILE")  # a directory: each worker is profiled there
    workers = []
    for n in range(processes):
        if profiles:
            out = Path(profiles) / f"worker-{Path(env['DATABASE_URL']).name}-{processes}-{n}.prof"
            command = [sys.executable, "-m", "bench.delivery_child", "worker", "--profile",
                       str(out)]
        workers.append(subprocess.Popen(command, cwd=PROJECT_DIR, env=env,
                                        stdout=subprocess.DEVNULL))
    try:
        _wait_idle([w.pid for w in workers])
        cpu_before = [_cpu_seconds(w.pid) for w in workers] + [_cpu_seconds(stub_pid)]
        machine_before = _machine_ticks()
        queued = _child(env, "enqueue", "--count", str(count))
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            # Not too often: every poll costs the stub (and so the machine) some CPU. The
            # stub says when the last new message came, so the time is exact all the same.
            stats = _stats(url)
            if stats["unique"] >= count:
                break
            time.sleep(0.1)
        # The stub answers STUB_DELAY_MS after it takes a message: count that in, as the
        # bare client's time does.
        finished = (float(stats["last_new_at"]) + STUB_DELAY_MS / 1000 if stats["last_new_at"]
                    else time.time())
        machine_after = _machine_ticks()
        cpu_after = [_cpu_seconds(w.pid) for w in workers] + [_cpu_seconds(stub_pid)]
        time.sleep(1.0)  # let the workers record the last outcomes
    finally:
        for w in workers:
            _stop(w)
    stats = _stats(url)
    seconds = finished - float(queued["committed_at"])
    used = [a - b for a, b in zip(cpu_after, cpu_before, strict=True)]
    return seconds, {"stub": stats, "db": _child(env, "sent")["by_status"],
                     "worker_cpu_seconds": round(sum(used[:-1]), 3),
                     "stub_cpu_seconds": round(used[-1], 3),
                     "machine_busy": _busy(machine_before, machine_after)}


def _bare(env: dict[str, str], url: str, count: int, processes: int, threads: int
          ) -> tuple[float, int, float, float]:
    httpx.post(f"{url}/_stub/reset", json={}, timeout=10)
    start_at = time.time() + 2.0
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    running = [subprocess.Popen(
        [sys.executable, "-m", "bench.delivery_child", "bare", "--url", url, "--count",
         str(n), "--threads", str(threads), "--start-at", repr(start_at),
         "--account", ACCOUNT_SID, "--token", AUTH_TOKEN],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, text=True) for n in shares]
    time.sleep(max(0.0, start_at - time.time()))
    machine_before = _machine_ticks()
    ends, errors, cpu = [], 0, 0.0
    for p in running:
        out, _ = p.communicate()
        result = json.loads(out.strip().splitlines()[-1])
        ends.append(float(result["finished_at"]))
        errors += int(result["errors"])
        cpu += float(result["cpu_seconds"])
    return max(ends) - start_at, errors, cpu, _busy(machine_before, _machine_ticks())


def throughput(var_dir: Path, count: int, process_counts: list[int],
               database: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    label, database_url = database or databases(var_dir, {})[0]
    stub, url = _start_stub()
    results = []
    try:
        env = _env(var_dir, "delivery.sqlite3", url, database_url)
        threads = int(os.environ.get("DELIVERY_CONCURRENCY") or DEFAULT_THREADS)
        env["DELIVERY_CONCURRENCY"] = str(threads)  # the workers and the bare client alike
        for processes in process_counts:
            # A fresh database each time: the same members, nothing sent yet.
            prepared = _child(env, "prepare", "--members", str(int(count * 1.15) + 100))
            print(f"  {label}: {prepared['members']:,} members generated", flush=True)
            seconds, counts = _ours(env, url, count, processes, stub.pid)
            bare_seconds, bare_errors, bare_cpu, bare_busy = _bare(env, url, count, processes,
                                                                   threads)
            ours_rate = count / seconds
            bare_rate = count / bare_seconds
            results.append({
                "name": f"{label} delivery, {count:,} SMS, {processes} worker process"
                        + ("es" if processes > 1 else ""),
                "seconds": round(seconds, 4),
                "limit_seconds": round(bare_seconds, 4),
                "ratio": round(bare_rate / ours_rate, 3),
                "kind": "delivery-throughput",
                "database": label,
                "messages": count,
                "processes": processes,
                "threads_per_process": threads,
                "stub_delay_ms": STUB_DELAY_MS,
                "messages_per_second": round(ours_rate, 1),
                "bare_messages_per_second": round(bare_rate, 1),
                "per_process_messages_per_second": round(ours_rate / processes, 1),
                "ceiling_messages_per_second": round(processes * threads * 1000 / STUB_DELAY_MS,
                                                     1),
                "stub_created": counts["stub"]["created"],
                "stub_duplicates": len(counts["stub"]["duplicates"]),
                "deliveries_by_status": counts["db"],
                "bare_errors": bare_errors,
                # CPU per message in the worker processes and in the bare client, the stub's
                # own CPU, and how busy the whole machine (all cores) was while it ran.
                "worker_cpu_ms_per_message": round(counts["worker_cpu_seconds"] / count * 1000, 3),
                "bare_cpu_ms_per_message": round(bare_cpu / count * 1000, 3),
                "stub_cpu_seconds": counts["stub_cpu_seconds"],
                "machine_busy": counts["machine_busy"],
                "bare_machine_busy": bare_busy,
                "cores": os.cpu_count(),
            })
            r = results[-1]
            print(f"  {r['name']}: ours {r['messages_per_second']:,.0f} msg/s "
                  f"({r['worker_cpu_ms_per_message']:.2f} ms CPU each, machine "
                  f"{r['machine_busy']:.0%} busy), bare {r['bare_messages_per_second']:,.0f} "
                  f"msg/s ({r['bare_cpu_ms_per_message']:.2f} ms CPU each, machine "
                  f"{r['bare_machine_busy']:.0%} busy)", flush=True)
    finally:
        _stop(stub)
        if not os.environ.get("BENCH_KEEP"):
            from bench.child import recreate_database

            recreate_database(database_url, create=False)
    return results


def confirmation_latency(var_dir: Path, alerts: int = 50) -> dict[str, Any]:
    env = _env(var_dir, "latency.sqlite3")
    out = _child(env, "latency", "--alerts", str(alerts))
    samples = sorted(out["samples"])
    p50 = statistics.median(samples) if samples else float("nan")
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)] if samples else float("nan")
    return {
        "name": f"sqlite confirmation to first provider request, p95 of {alerts} alerts",
        "seconds": round(p95, 4),
        "limit_seconds": TARGET_P95_S,
        "ratio": round(p95 / TARGET_P95_S, 3),
        "kind": "confirmation-latency",
        "database": "sqlite",
        "alerts": alerts,
        "measured": len(samples),
        "missing": out["missing"],
        "p50_seconds": round(p50, 4),
        "p95_seconds": round(p95, 4),
        "max_seconds": round(samples[-1], 4) if samples else None,
        "recipients_per_alert": out["recipients_per_alert"],
        "samples": [round(s, 4) for s in samples],
    }


def run(var_dir: Path, count: int = MESSAGES, alerts: int = 50) -> list[dict[str, Any]]:
    (var_dir / "bench").mkdir(parents=True, exist_ok=True)
    results = []
    for database in databases(var_dir, dict(os.environ)):
        print(f"delivery ({database[0]}): {count:,} SMS to a Twilio stub answering after "
              f"{STUB_DELAY_MS} ms ...", flush=True)
        results += throughput(var_dir, count, [1, 2], database)
    print(f"delivery: confirmation to first provider request, {alerts} alerts ...", flush=True)
    results.append(confirmation_latency(var_dir, alerts))
    return results


def _one_process(results: list[dict[str, Any]], r: dict[str, Any]) -> dict[str, Any] | None:
    return next((o for o in results if o["kind"] == "delivery-throughput"
                 and o["database"] == r["database"] and o["processes"] == 1), None)


def table(results: list[dict[str, Any]]) -> str:
    header = ("benchmark", "ours", "bare / target", "ours / bare", "CPU/msg ours, bare",
              "x one process")
    rows = [header]
    for r in results:
        if r["kind"] == "delivery-throughput":
            one = _one_process(results, r)
            scale = (f"{r['messages_per_second'] / one['messages_per_second']:.2f}"
                     if one is not None and r["processes"] > 1 else "")
            rows.append((r["name"], f"{r['messages_per_second']:,.0f} msg/s",
                         f"{r['bare_messages_per_second']:,.0f} msg/s",
                         f"{1 / r['ratio']:.2f}",
                         f"{r['worker_cpu_ms_per_message']:.2f}, "
                         f"{r['bare_cpu_ms_per_message']:.2f} ms", scale))
        else:
            rows.append((r["name"], f"p50 {r['p50_seconds']:.3f} s, p95 {r['p95_seconds']:.3f} s",
                         f"p95 <= {TARGET_P95_S:.1f} s", "", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join([row[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    """The targets: one worker process at least 80 % of the bare client's rate at the same
    concurrency; two at least TARGET_SCALE times one (PostgreSQL 1.6; SQLite never slower).
    Figures, not asserts: the machine is shared with the stub and the bare clients."""
    notes = []
    for r in results:
        if r["kind"] == "delivery-throughput":
            if r["stub_duplicates"] or r["deliveries_by_status"].get("sent", 0) < r["messages"]:
                notes.append(f"WRONG: {r['name']}: {r['stub_duplicates']} duplicate sends, "
                             f"deliveries {r['deliveries_by_status']}")
            busy = (f"{r['worker_cpu_ms_per_message']:.2f} ms of worker CPU per message "
                    f"(bare {r['bare_cpu_ms_per_message']:.2f}), stub {r['stub_cpu_seconds']:.1f}"
                    f" s CPU, the machine's {r['cores']} cores {r['machine_busy']:.0%} busy "
                    f"(bare {r['bare_machine_busy']:.0%})")
            if r["processes"] == 1:
                met = r["ratio"] <= TARGET_RATIO
                notes.append(f"{'met' if met else 'NOT met'}: {r['name']}: "
                             f"{1 / r['ratio']:.0%} of the bare client's rate (target >= "
                             f"{1 / TARGET_RATIO:.0%}); {busy}")
                continue
            one = _one_process(results, r)
            if one is None:
                continue
            scale = r["messages_per_second"] / one["messages_per_second"]
            want = TARGET_SCALE.get(r["database"], 1.0)
            notes.append(f"{'met' if scale >= want else 'NOT met'}: {r['name']}: {scale:.2f} x "
                         f"one process (target >= {want}; bare clients "
                         f"{r['bare_messages_per_second'] / one['bare_messages_per_second']:.2f}"
                         f" x); {busy}")
        else:
            met = r["measured"] == r["alerts"] and r["p95_seconds"] <= TARGET_P95_S
            notes.append(f"{'met' if met else 'NOT met'}: {r['name']}: p95 "
                         f"{r['p95_seconds']:.3f} s (target <= {TARGET_P95_S} s), "
                         f"{r['measured']}/{r['alerts']} measured")
    return notes
