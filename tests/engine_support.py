"""Support for the delivery-engine tests: real HTTP servers on loopback standing in for
third parties (a signal-cli REST API, a partner system), contact points of every kind, and
worker processes against a database file.

Third parties are faked only at the HTTP level: the code under test talks to these servers
exactly as it would to the real ones."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

from rapidresponse.lib import crypto
from rapidresponse.members.contacts import index_for
from rapidresponse.members.models import ContactPoint, Member

ROOT = Path(__file__).resolve().parent.parent


# --- a real HTTP server in a thread --------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str/bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than the client waits: a time-out)


class StubServer:
    """Records every request; answers from `script` (one Reply per request, in order), then
    from `answer(request)`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: list[Reply] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body,
                                  time.monotonic())
                with stub.lock:
                    stub.requests.append(request)
                    reply = stub.script.pop(0) if stub.script else None
                if reply is None:
                    reply = stub.answer(request)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if isinstance(payload, dict | list):
                    data = json.dumps(payload).encode()
                    content_type = "application/json"
                elif isinstance(payload, str):
                    data, content_type = payload.encode(), "text/plain; charset=utf-8"
                else:
                    data, content_type = payload or b"", "application/octet-stream"
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, request: Request) -> Reply:
        return Reply(200, {})

    def start(self) -> StubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def running(stub: StubServer) -> Iterator[Any]:
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


class SignalStub(StubServer):
    """signal-cli-rest-api: POST /v2/send -> 201 {"timestamp": "..."}."""

    def answer(self, request: Request) -> Reply:
        if request.method == "POST" and request.path == "/v2/send":
            return Reply(201, {"timestamp": str(1_700_000_000_000 + len(self.requests))})
        return Reply(404, {"error": "not found"})

    def sent(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.requests if r.path == "/v2/send"]


# --- how a partner checks our webhooks (the procedure the README gives partners) ----------

TOLERANCE_S = 300


def partner_verify(secret: str, headers: dict[str, str], body: bytes, *,
                   now: float | None = None, tolerance: int = TOLERANCE_S) -> str | None:
    """None when the request is genuine and fresh, else why it is refused. Written from
    the README alone, not from our signing code."""
    timestamp = headers.get("x-rapidresponse-timestamp", "")
    signature = headers.get("x-rapidresponse-signature", "")
    if not timestamp.isdigit() or not signature:
        return "unsigned"
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "bad signature"
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return "stale"
    return None


class PartnerStub(StubServer):
    """A partner's endpoint: checks every request as the README says, answers 401 to a
    request that fails, 200 otherwise, and keeps each delivery once (by its id header)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.accepted: dict[str, Any] = {}
        self.refused: list[str] = []

    def answer(self, request: Request) -> Reply:
        problem = partner_verify(self.secret, request.headers, request.body)
        if problem is not None:
            self.refused.append(problem)
            return Reply(401, {"error": problem})
        delivery = request.headers.get("x-rapidresponse-delivery", "")
        self.accepted.setdefault(delivery, request.json())
        return Reply(200, {"ok": True})


# --- contact points of any kind --------------------------------------------------------------


def add_contact(member: Member, kind: str, value: str, *, enabled: bool = True,
                verified: bool = True) -> ContactPoint:
    return ContactPoint.objects.create(
        member=member, kind=kind, value_encrypted=crypto.encrypt(value),
        blind_index=index_for(kind, value), enabled=enabled,
        verified_at=timezone.now() if verified else None)


# --- worker processes against a database of their own -------------------------------------


def redis_url() -> str:
    """The Redis the suite uses for queues and buckets, on database 15 (RR_TEST_REDIS_DB
    chooses another, so that two runs on one machine keep apart): the suite's Redis cache
    (database 0 when REDIS_URL says so) is flushed between tests, which must not wipe
    queues and buckets."""
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parts = urlsplit(base)
    return parts._replace(path="/" + os.environ.get("RR_TEST_REDIS_DB", "15")).geturl()


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(redis_url(), socket_connect_timeout=1).ping())
    except Exception:
        return False


@dataclass
class Site:
    """A database of its own (a SQLite file, or a fresh PostgreSQL database when the suite
    runs on PostgreSQL) and the environment for processes that use it."""

    env: dict[str, str]
    database_url: str
    cleanup: Callable[[], None]

    def manage(self, *args: str, timeout: float = 600, **extra: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT,
                                env={**self.env, **extra}, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n"
                                 f"{result.stderr}")
        return result.stdout

    def python(self, code: str, timeout: float = 600, **extra: str) -> str:
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                                env={**self.env, **extra}, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"script failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def worker(self, log: Path, **extra: str) -> subprocess.Popen[bytes]:
        out = log.open("ab")
        return subprocess.Popen([sys.executable, "manage.py", "worker", "--interval", "0.1"],
                                cwd=ROOT, env={**self.env, **extra}, stdout=out,
                                stderr=subprocess.STDOUT)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the site's database directly (what an operator would look at)."""
        if self.database_url.startswith("sqlite:///"):
            import sqlite3

            with sqlite3.connect(self.database_url[len("sqlite:///"):], timeout=30) as db:
                return list(db.execute(sql).fetchall())
        import psycopg

        with psycopg.connect(_pg_dsn(self.database_url), autocommit=True) as db:
            return list(db.execute(sql).fetchall())  # type: ignore[arg-type]


def _pg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def make_site(tmp_path: Path, **extra: str) -> Site:
    """A migrated database for worker processes, of the kind the suite runs on."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST")}
    env.update(DJANGO_SETTINGS_MODULE="rapidresponse.settings", RR_VAR_DIR=str(tmp_path),
               PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING")
    base = os.environ.get("DATABASE_URL", "")
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"rr_site_{uuid.uuid4().hex[:10]}"
        admin = _pg_dsn(base.rsplit("/", 1)[0] + "/postgres")
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        url = base.rsplit("/", 1)[0] + "/" + name

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as db:
                db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]

        cleanup = drop
    else:
        url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    env["DATABASE_URL"] = url
    env.update(extra)
    site = Site(env=env, database_url=url, cleanup=cleanup)
    site.manage("migrate", "--noinput", "-v0")
    return site


def wait_until(condition: Callable[[], bool], *, give_up_after: float, what: str,
               every: float = 0.25, alive: Callable[[], str | None] | None = None) -> None:
    """Poll until `condition` holds. The limit only stops a hung test; it asserts nothing
    about speed. `alive` returns why to stop early (a worker process that exited)."""
    stop_at = time.monotonic() + give_up_after
    while not condition():
        if alive is not None and (problem := alive()):
            raise AssertionError(f"{what}: {problem}")
        if time.monotonic() > stop_at:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(every)


# --- a fan-out to many members, written by a process of the site ---------------------------

BOYLE = (34.0339, -118.2036)


def seed_fanout(members: int, *, first_number: int = 2_000_000) -> int:
    """`members` members with an SMS number each, all near Boyle Heights, and a verified
    alert there: one delivery per member, queued, and a drain task enqueued. Run inside a
    site process (see seed_in)."""
    from django.conf import settings
    from django.db import transaction

    from rapidresponse.alerts.actions import do_send_alert
    from rapidresponse.incidents.models import Incident
    from rapidresponse.incidents.queries import facts_of
    from rapidresponse.lib import geo
    from rapidresponse.members.models import WatchArea

    now = timezone.now()
    cell = geo.cell_for(*BOYLE, settings.H3_MEMBER_RESOLUTION)
    with transaction.atomic():
        people = Member.objects.bulk_create(
            [Member(name=f"m{i}", language="es" if i % 3 == 0 else "en",
                    status=Member.Status.ACTIVE, source=Member.Source.IMPORT, consent_at=now)
             for i in range(members)], batch_size=2000)
        numbers = [f"+1213{first_number + i:07d}" for i in range(members)]
        ContactPoint.objects.bulk_create(
            [ContactPoint(member=m, kind="sms", value_encrypted=crypto.encrypt(n),
                          blind_index=index_for("sms", n), enabled=True, verified_at=now)
             for m, n in zip(people, numbers, strict=True)], batch_size=2000)
        WatchArea.objects.bulk_create(
            [WatchArea(member=m, cell=cell, rings=1, radius_m=1000) for m in people],
            batch_size=2000)
        incident = Incident.objects.create(
            state="confirmed", cell=geo.cell_for(*BOYLE, settings.H3_REPORT_RESOLUTION),
            activity="arrests", agency="ice", first_seen_at=now, last_report_at=now,
            confirmed_at=now)
        alert = do_send_alert(facts_of(incident), None)
    return alert.recipient_count


def seed_in(site: Site, members: int) -> int:
    out = site.python(
        "import django; django.setup()\n"
        "from tests.engine_support import seed_fanout\n"
        f"print(seed_fanout({members}))\n")
    return int(out.strip().splitlines()[-1])


def status_counts(site: Site) -> dict[str, int]:
    return dict(site.query("SELECT status, COUNT(*) FROM delivery_delivery GROUP BY status"))


@contextmanager
def workers(site: Site, count: int, log_dir: Path, **extra: str) -> Iterator[list[Any]]:
    """`count` worker processes; each is stopped (SIGTERM, then SIGKILL) at the end."""
    procs = [site.worker(log_dir / f"worker-{i}.log", **extra) for i in range(count)]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


def exited(procs: list[Any], log_dir: Path) -> Callable[[], str | None]:
    def check() -> str | None:
        for i, proc in enumerate(procs):
            if proc.poll() is not None:
                log = (log_dir / f"worker-{i}.log").read_text(errors="replace")[-3000:]
                return f"worker {i} exited with {proc.returncode}:\n{log}"
        return None
    return check
