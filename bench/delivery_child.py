"""The processes of the delivery benchmarks (`bench.delivery`). Run by `python -m bench`.

    python -m bench.delivery_child prepare --members N      # fresh DB, migrated, N members
    python -m bench.delivery_child enqueue --count N        # one message, N queued SMS
    python -m bench.delivery_child sent                     # how many deliveries were sent
    python -m bench.delivery_child bare --url U --count N --threads T --start-at EPOCH
    python -m bench.delivery_child latency --alerts 50 --result FILE
    python -m bench.delivery_child worker --profile FILE    # `manage.py worker`, profiled

The database and the Twilio settings come from the environment (bench.delivery sets them).
Every line of output that matters is one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapidresponse.settings")
    import django

    django.setup()


def prepare(members: int) -> dict[str, Any]:
    from bench.child import recreate_database

    recreate_database(os.environ["DATABASE_URL"])
    _django()
    from django.core.management import call_command

    from bench import data

    call_command("migrate", verbosity=0, interactive=False)
    generated = data.generate(members, seed=3)
    return {"members": generated.members, "active": generated.active}


def enqueue(count: int) -> dict[str, Any]:
    """One alert-priority message queued for `count` members by SMS, as the fan-out leaves
    it (the worker is told through the task queue, on commit)."""
    _django()
    from django.db import transaction

    from rapidresponse.delivery import outbox
    from rapidresponse.members.models import ContactPoint, Member

    member_ids = list(
        ContactPoint.objects.filter(kind="sms", enabled=True, disabled_at__isnull=True,
                                    verified_at__isnull=False,
                                    member__status=Member.Status.ACTIVE)
        .order_by("member_id").values_list("member_id", flat=True)[:count])
    if len(member_ids) < count:
        raise SystemExit(f"only {len(member_ids)} members with a usable SMS contact")
    members = list(Member.objects.filter(pk__in=member_ids))
    text = "ICE activity reported near 1st St and Soto St. Stay safe. Reply STOP to end."
    with transaction.atomic():
        message = outbox.create_message("alert", {"en": {"text": text}, "es": {"text": text}},
                                        is_drill=False)
        outbox.add_deliveries(message, [(m, "sms", 0) for m in members])
    return {"committed_at": time.time(), "message": message.pk, "deliveries": len(members)}


def sent() -> dict[str, Any]:
    _django()
    from django.db.models import Count

    from rapidresponse.delivery.models import Delivery

    rows = Delivery.objects.values("status").annotate(n=Count("id"))
    return {"by_status": {r["status"]: r["n"] for r in rows}}


def bare(url: str, count: int, threads: int, start_at: float, account: str,
         token: str) -> dict[str, Any]:
    """The same create requests as the Twilio transport, from plain httpx clients on the
    same number of threads (one client with a warm connection per thread, as the worker
    has), no database: the floor for this concurrency."""
    import httpx

    endpoint = f"{url}/2010-04-01/Accounts/{account}/Messages.json"
    lock = threading.Lock()
    todo = list(range(count))
    errors = 0
    clients = [httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), auth=(account, token))
               for _ in range(threads)]
    for client in clients:
        client.get(f"{url}/_stub/stats")  # open a connection, like a warm worker

    def work(client: httpx.Client) -> None:
        nonlocal errors
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            response = client.post(endpoint, data={
                "To": f"+1213{2_000_000 + n:07d}",
                "Body": "ICE activity reported near 1st St and Soto St. Stay safe.",
                "StatusCallback": f"https://alerts.example.org/sms/status?d=bare-{os.getpid()}-{n}",
                "ContentRetention": "discard",
                "MessagingServiceSid": "MG" + "0" * 31 + "1"})
            if response.status_code != 201:
                with lock:
                    errors += 1

    time.sleep(max(0.0, start_at - time.time()))
    cpu = time.process_time()
    pool = [threading.Thread(target=work, args=(client,)) for client in clients]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {"finished_at": time.time(), "errors": errors,
            "cpu_seconds": time.process_time() - cpu}


# --- time from a verifier's confirmation to the first provider request -------------------


def _grid(n: int) -> list[tuple[float, float]]:
    """`n` places in Los Angeles about 4.4 km apart: no two incidents cluster, no member
    watches two of them (2 km alert + 500 m watch area)."""
    places = []
    for i in range(n):
        row, col = divmod(i, 10)
        places.append((33.90 + row * 0.04, -118.45 + col * 0.048))
    return places


def _wait(check: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.005)
    return False


def latency(alerts: int, per_alert: int) -> dict[str, Any]:
    from bench.child import recreate_database
    from tests.stubs.twilio_stub import TwilioStub

    recreate_database(os.environ["DATABASE_URL"])
    stub = TwilioStub(delay_ms=float(os.environ.get("BENCH_STUB_DELAY_MS", "20"))).start()
    os.environ["TWILIO_API_BASE"] = stub.base_url
    _django()
    from django.core.management import call_command

    from rapidresponse.alerts.models import Alert
    from rapidresponse.delivery.models import Delivery
    from rapidresponse.incidents.actions import (
        build_report_input,
        do_record_verification,
        do_submit_report,
    )
    from rapidresponse.members.actions import MemberInput, do_create_member, place_from_point
    from rapidresponse.members.contacts import normalise

    call_command("migrate", verbosity=0, interactive=False)
    places = _grid(alerts)
    phone = 0
    for lat, lng in places:
        for _ in range(per_alert):
            phone += 1
            do_create_member(MemberInput(
                name="", language="en", contacts={"sms": normalise("sms", f"+1213555{phone:04d}")},
                channels=["sms"], places=[place_from_point(lat, lng, 500)]), source="import")
    from rapidresponse.accounts.actions import StaffInput, do_provision_staff
    from rapidresponse.accounts.models import Role

    staff, _ = do_provision_staff(StaffInput(username="bench-verifier", role=Role.VERIFIER,
                                             password="correct-horse-1", network_wide=True))
    verifier = staff.user

    env = dict(os.environ)
    worker = subprocess.Popen([sys.executable, "manage.py", "worker", "--verbosity", "0"],
                              cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL)
    samples: list[float] = []
    missing = 0
    try:
        time.sleep(4.0)  # let the worker start (Django setup, first poll)
        rng = random.Random(5)
        for lat, lng in places:
            report = do_submit_report(build_report_input({
                "latitude": lat, "longitude": lng, "activity": "arrests", "agency": "ice",
                "size": 4, "vehicles": 2}), source="api")
            incident = report.incident
            time.sleep(rng.uniform(0.05, 0.35))  # do not stay in step with the worker's poll
            before = time.time()
            do_record_verification(incident, verifier, "confirmed")
            incident.refresh_from_db()
            alert = Alert.objects.filter(incident=incident).order_by("-pk").first()
            if alert is None:
                missing += 1
                continue
            keys = {f"d:{pk}" for pk in
                    Delivery.objects.filter(message_id=alert.message_id)
                    .values_list("pk", flat=True)}
            if not keys:
                missing += 1
                continue

            def seen(keys: set[str] = keys) -> list[float]:
                return [r.at for r in stub.requests if r.key in keys]

            def all_sent(keys: set[str] = keys) -> bool:
                return len(seen(keys)) >= len(keys)

            if not _wait(all_sent, 30.0):
                missing += 1
                continue
            samples.append(min(seen()) - before)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        stub.stop()
        from django.db import connections

        connections.close_all()
        if not os.environ.get("BENCH_KEEP"):
            recreate_database(os.environ["DATABASE_URL"], create=False)
    return {"samples": samples, "missing": missing, "recipients_per_alert": per_alert}


def profiled_worker(path: str) -> int:
    """`manage.py worker` with cProfile on every thread (BENCH_PROFILE=dir in bench.delivery);
    the merged statistics are written to `path` when the worker stops (SIGTERM)."""
    import cProfile
    import pstats

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start(*_args: Any) -> None:  # the first event of each new thread
        profile = cProfile.Profile(time.thread_time_ns, 1e-9)  # CPU time, not waits
        with lock:
            profiles.append(profile)
        profile.enable()

    threading.setprofile(start)
    start()
    try:
        from django.core.management import execute_from_command_line

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapidresponse.settings")
        execute_from_command_line(["manage.py", "worker", "--verbosity", "0"])
    finally:
        profiles[0].disable()
        with lock:
            stats = pstats.Stats(profiles[0])
            for profile in profiles[1:]:
                stats.add(profile)
        stats.dump_stats(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery_child")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--members", type=int, required=True)
    p = sub.add_parser("enqueue")
    p.add_argument("--count", type=int, required=True)
    sub.add_parser("sent")
    p = sub.add_parser("bare")
    p.add_argument("--url", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--start-at", type=float, required=True)
    p.add_argument("--account", required=True)
    p.add_argument("--token", required=True)
    p = sub.add_parser("latency")
    p.add_argument("--alerts", type=int, default=50)
    p.add_argument("--per-alert", type=int, default=3)
    p = sub.add_parser("worker")
    p.add_argument("--profile", required=True)
    args = parser.parse_args(argv)
    if args.command == "worker":
        return profiled_worker(args.profile)
    if args.command == "prepare":
        out = prepare(args.members)
    elif args.command == "enqueue":
        out = enqueue(args.count)
    elif args.command == "sent":
        out = sent()
    elif args.command == "bare":
        out = bare(args.url, args.count, args.threads, args.start_at, args.account, args.token)
    else:
        out = latency(args.alerts, args.per_alert)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
