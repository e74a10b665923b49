"""A local stub of Twilio's Messages API: a real HTTP server in a thread on 127.0.0.1.

It answers what the project's Twilio transport asks, shaped like Twilio's answers:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded: To, Body, From or
  MessagingServiceSid, StatusCallback, ContentRetention, ...) creates a message and answers
  201 with Twilio's JSON (``sid`` "SM" + 32 hex digits, ``status`` "queued").
- ``GET .../Messages/{Sid}.json`` answers one message (404 with code 20404 if unknown).
- ``GET .../Messages.json`` lists messages, newest first, filtered by ``To``, ``From``,
  ``DateSent``, ``DateSent>`` and ``DateSent<`` (a date ``YYYY-MM-DD`` or an ISO 8601 time;
  both bounds inclusive), paged by ``PageSize`` and ``Page``.

HTTP basic auth must be the account SID and auth token given to the stub (401, code 20003,
otherwise); a request for another account gets 404. Every create request is recorded
(``requests``: accepted or not), every created message is kept (``messages``), and created
messages are counted per *delivery key*: the ``d`` parameter of the StatusCallback URL the
project sends (its delivery id), or To + Body when there is none. ``duplicates()`` lists the
keys created more than once: a crash test expects it to be empty.

It can be told to misbehave, each for the next N create requests or for one number:

- ``fail_next(429, retry_after="2")``, ``fail_next(500)``, ``fail_next(400, code=21211)``:
  answer that error, create nothing;
- ``fail_to("+12135550199", 400, code=21610)``: always refuse this number;
- ``drop_next()``: create the message, then close the connection without answering
  (the client never learns the SID: a lost answer);
- ``hang_next(seconds)``: create the message, answer only after ``seconds`` (longer than the
  client's timeout: a timed-out request that nevertheless went out);
- ``delay_ms``: every answer waits this long (a slow provider; 20 ms for the benchmarks);
- ``set_status(sid, "delivered")``: what later GETs report.

Used in tests as a context manager::

    with TwilioStub() as stub:
        settings.TWILIO_API_BASE = stub.base_url
        ...
        assert stub.messages[0].to == "+12135550101"

or, in a Django test, with the settings that send SMS to it (``serve_for``; ``signature``
signs a webhook the way Twilio does)::

    @pytest.fixture
    def twilio(settings):
        yield from serve_for(settings)           # or serve_for(settings, pool=[...])

or as a process (the crash test and the benchmarks), printing its port on the first line
of stdout and serving until SIGTERM or SIGINT::

    python -m tests.stubs.twilio_stub --port 0 --delay-ms 20

A process is driven over HTTP by the same controls: ``GET /_stub/stats`` (counts and
duplicates), ``GET /_stub/messages``, ``POST /_stub/reset``, ``POST /_stub/delay``
(``{"ms": 20}``) and ``POST /_stub/fail`` (JSON: ``{"status": 429, "retry_after": "1",
"times": 3}``, ``{"to": "+1...", "status": 400, "code": 21211}``, ``{"mode": "drop"}``,
``{"mode": "hang", "seconds": 5}``).

This module needs only the standard library (and the project's pure segment counter), so
it runs without Django.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from rapidresponse.channels.sms.segments import count_segments

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "stub-auth-token-0123456789abcdef"
API_VERSION = "2010-04-01"

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages"
                       r"(?:/(?P<sid>[^/]+))?\.json$")


@dataclass(frozen=True)
class CreateRequest:
    """One POST to Messages.json as the stub received it."""

    to: str
    body: str
    from_: str
    messaging_service_sid: str
    status_callback: str
    params: dict[str, str]
    key: str
    answered: int  # the HTTP status the stub meant to answer (201, 429, 500, 400, ...)
    sid: str = ""  # set when a message was created
    at: float = 0.0


@dataclass
class StubMessage:
    sid: str
    to: str
    body: str
    from_: str
    messaging_service_sid: str
    status_callback: str
    content_retention: str
    key: str
    status: str
    created: datetime
    error_code: int | None = None

    def as_twilio(self, account_sid: str) -> dict[str, Any]:
        stamp = format_datetime(self.created, usegmt=True)
        segments = count_segments(self.body).segments if self.body else 1
        return {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            # With ContentRetention=discard Twilio does not keep the body.
            "body": "" if self.content_retention == "discard" else self.body,
            "date_created": stamp,
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_ or None,
            "messaging_service_sid": self.messaging_service_sid or None,
            "num_media": "0",
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{self.sid}/Media.json"},
            "to": self.to,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{self.sid}.json",
        }


@dataclass
class _Failure:
    status: int = 500
    code: int | None = None
    message: str = ""
    retry_after: str | None = None
    mode: str = "answer"  # answer | drop | hang
    seconds: float = 0.0
    times: int = 1


@dataclass
class _State:
    account_sid: str
    auth_token: str
    delay_ms: float = 0.0
    default_status: str = "queued"
    requests: list[CreateRequest] = field(default_factory=list)
    messages: list[StubMessage] = field(default_factory=list)
    by_sid: dict[str, StubMessage] = field(default_factory=dict)
    keys: Counter[str] = field(default_factory=Counter)
    failures: list[_Failure] = field(default_factory=list)
    refused: dict[str, _Failure] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    list_gate: threading.Barrier | None = None  # see TwilioStub.hold_lists
    list_gate_left: int = 0
    last_new_at: float = 0.0  # time.time() when a delivery key was last seen first
    duplicates: dict[str, int] = field(default_factory=dict)  # keys created more than once


def delivery_key(params: dict[str, str]) -> str:
    """Which delivery a create request is for: the StatusCallback's ``d``, else To + Body."""
    callback = params.get("StatusCallback", "")
    if callback:
        d = parse_qs(urlsplit(callback).query).get("d")
        if d:
            return f"d:{d[0]}"
    return f"to:{params.get('To', '')}|{params.get('Body', '')}"


def _twilio_error(status: int, code: int | None, message: str) -> dict[str, Any]:
    code = code or {400: 21211, 401: 20003, 404: 20404, 429: 20429}.get(status, 20500)
    return {"code": code, "message": message or _ERROR_TEXT.get(code, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


_ERROR_TEXT = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


def _parse_bound(raw: str) -> datetime | date | None:
    raw = raw.strip()
    try:
        if "T" in raw or " " in raw:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _within(created: datetime, bound: datetime | date, op: str) -> bool:
    if isinstance(bound, datetime):
        left: datetime | date = created
    else:
        left = created.astimezone(UTC).date()
    if op == "=":
        return left == bound
    if op == ">":
        return left >= bound  # type: ignore[operator]
    return left <= bound  # type: ignore[operator]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # quiet

    # -- plumbing -----------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None
                   ) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _authorised(self, account: str) -> bool:
        state = self.server.state
        if account != state.account_sid:
            self._send_json(404, _twilio_error(404, 20404, ""))
            return False
        expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
        if self.headers.get("Authorization", "") != f"Basic {expected}":
            self._send_json(401, _twilio_error(401, 20003, ""))
            return False
        return True

    def _delay(self) -> None:
        delay = self.server.state.delay_ms
        if delay > 0:
            time.sleep(delay / 1000.0)

    # -- routes -------------------------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802
        raw = self._read_body()
        path = urlsplit(self.path).path
        if path.startswith("/_stub/"):
            self._control("POST", path, raw)
            return
        match = _MESSAGES.match(path)
        if not match or match["sid"]:
            self._send_json(404, _twilio_error(404, 20404, ""))
            return
        if not self._authorised(match["account"]):
            return
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"),
                                               keep_blank_values=True).items()}
        self._create(form)

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        if parts.path.startswith("/_stub/"):
            self._control("GET", parts.path, b"")
            return
        match = _MESSAGES.match(parts.path)
        if not match:
            self._send_json(404, _twilio_error(404, 20404, ""))
            return
        if not self._authorised(match["account"]):
            return
        self._delay()
        state = self.server.state
        with state.lock:
            gate = state.list_gate if state.list_gate_left > 0 and not match["sid"] else None
            if gate is not None:
                state.list_gate_left -= 1
        if gate is not None:
            gate.wait(timeout=60)
        if match["sid"]:
            with state.lock:
                found = state.by_sid.get(match["sid"])
                payload = found.as_twilio(state.account_sid) if found else None
            if payload is None:
                self._send_json(404, _twilio_error(404, 20404, ""))
            else:
                self._send_json(200, payload)
            return
        self._list({k: v[-1] for k, v in parse_qs(parts.query).items()}, parts.path)

    def _create(self, form: dict[str, str]) -> None:
        state = self.server.state
        to = form.get("To", "")
        key = delivery_key(form)
        with state.lock:
            failure = state.refused.get(to)
            if failure is None and state.failures:
                failure = state.failures[0]
                failure.times -= 1
                if failure.times <= 0:
                    state.failures.pop(0)
        if failure is not None and failure.mode == "answer":
            self._record(form, key, failure.status, None)
            self._delay()
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            self._send_json(failure.status,
                            _twilio_error(failure.status, failure.code, failure.message),
                            headers)
            return
        errors = []
        if not to:
            errors.append("A 'To' phone number is required.")
        if not form.get("Body"):
            errors.append("A text message Body or Media Url is required.")
        if not form.get("From") and not form.get("MessagingServiceSid"):
            errors.append("A 'From' phone number or MessagingServiceSid is required.")
        if errors:
            self._record(form, key, 400, None)
            self._send_json(400, _twilio_error(400, 21604 if "To" in errors[0] else 21602,
                                               errors[0]))
            return
        message = StubMessage(
            sid="SM" + secrets.token_hex(16), to=to, body=form.get("Body", ""),
            from_=form.get("From", ""), messaging_service_sid=form.get("MessagingServiceSid", ""),
            status_callback=form.get("StatusCallback", ""),
            content_retention=form.get("ContentRetention", ""), key=key,
            status=state.default_status, created=datetime.now(UTC).replace(microsecond=0))
        with state.lock:
            state.messages.append(message)
            state.by_sid[message.sid] = message
            if key not in state.keys:
                state.last_new_at = time.time()
            state.keys[key] += 1
            if state.keys[key] > 1:
                state.duplicates[key] = state.keys[key]
        self._record(form, key, 201, message.sid)
        if failure is not None and failure.mode == "drop":
            self.close_connection = True  # created, but the client never hears of it
            return
        if failure is not None and failure.mode == "hang":
            time.sleep(failure.seconds)
        self._delay()
        self._send_json(201, message.as_twilio(state.account_sid))

    def _record(self, form: dict[str, str], key: str, status: int, sid: str | None) -> None:
        state = self.server.state
        entry = CreateRequest(
            to=form.get("To", ""), body=form.get("Body", ""), from_=form.get("From", ""),
            messaging_service_sid=form.get("MessagingServiceSid", ""),
            status_callback=form.get("StatusCallback", ""), params=dict(form), key=key,
            answered=status, sid=sid or "", at=time.time())
        with state.lock:
            state.requests.append(entry)

    def _list(self, query: dict[str, str], path: str) -> None:
        state = self.server.state
        bounds = []
        for name, op in (("DateSent", "="), ("DateSent>", ">"), ("DateSent<", "<")):
            if query.get(name):
                bound = _parse_bound(query[name])
                if bound is None:
                    self._send_json(400, _twilio_error(400, 20001, f"Invalid {name}"))
                    return
                bounds.append((bound, op))
        try:
            size = max(1, min(1000, int(query.get("PageSize", "50"))))
            page = max(0, int(query.get("Page", "0")))
        except ValueError:
            self._send_json(400, _twilio_error(400, 20001, "Invalid paging"))
            return
        with state.lock:
            found = [m for m in reversed(state.messages)
                     if (not query.get("To") or m.to == query["To"])
                     and (not query.get("From") or m.from_ == query["From"])
                     and all(_within(m.created, b, op) for b, op in bounds)]
            chunk = [m.as_twilio(state.account_sid) for m in found[page * size:(page + 1) * size]]
        base = {k: v for k, v in query.items() if k not in ("Page", "PageSize")}
        uri = lambda p: f"{path}?{urlencode({**base, 'PageSize': size, 'Page': p})}"  # noqa: E731
        more = (page + 1) * size < len(found)
        self._send_json(200, {
            "messages": chunk, "page": page, "page_size": size, "uri": uri(page),
            "first_page_uri": uri(0), "previous_page_uri": uri(page - 1) if page else None,
            "next_page_uri": uri(page + 1) if more else None, "start": page * size,
            "end": page * size + len(chunk) - 1 if chunk else page * size,
        })

    def _control(self, method: str, path: str, raw: bytes) -> None:
        stub = self.server.stub
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": "body must be JSON"})
            return
        if method == "GET" and path == "/_stub/stats":
            self._send_json(200, stub.stats())
        elif method == "GET" and path == "/_stub/messages":
            self._send_json(200, [
                {k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in asdict(m).items()} for m in stub.messages])
        elif method == "POST" and path == "/_stub/reset":
            stub.reset()
            self._send_json(200, {"ok": True})
        elif method == "POST" and path == "/_stub/delay":
            stub.delay_ms = float(data.get("ms", 0))
            self._send_json(200, {"ok": True})
        elif method == "POST" and path == "/_stub/fail":
            mode = data.get("mode", "answer")
            if mode == "drop":
                stub.drop_next(int(data.get("times", 1)))
            elif mode == "hang":
                stub.hang_next(float(data.get("seconds", 30)), int(data.get("times", 1)))
            elif data.get("to"):
                stub.fail_to(str(data["to"]), int(data.get("status", 400)), code=data.get("code"))
            else:
                stub.fail_next(int(data.get("status", 500)), code=data.get("code"),
                               retry_after=data.get("retry_after"),
                               times=int(data.get("times", 1)))
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"error": "unknown control"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    state: _State
    stub: TwilioStub


class TwilioStub:
    """The stub server. Start it with ``start()`` or ``with TwilioStub() as stub:``."""

    def __init__(self, *, account_sid: str = DEFAULT_ACCOUNT_SID,
                 auth_token: str = DEFAULT_AUTH_TOKEN, delay_ms: float = 0.0,
                 host: str = "127.0.0.1", port: int = 0, status: str = "queued") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._state = _State(account_sid=account_sid, auth_token=auth_token,
                             delay_ms=delay_ms, default_status=status)
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> TwilioStub:
        server = _Server(self._address, _Handler)
        server.state = self._state
        server.stub = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="twilio-stub",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> TwilioStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the stub is not running"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What TWILIO_API_BASE should be."""
        return f"http://127.0.0.1:{self.port}"

    # -- what it received ---------------------------------------------------------------

    @property
    def requests(self) -> list[CreateRequest]:
        """Every create request, in order, whatever was answered."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def messages(self) -> list[StubMessage]:
        """Every message created, in order."""
        with self._state.lock:
            return list(self._state.messages)

    def messages_to(self, number: str) -> list[StubMessage]:
        return [m for m in self.messages if m.to == number]

    def message(self, sid: str) -> StubMessage:
        with self._state.lock:
            return self._state.by_sid[sid]

    def duplicates(self) -> dict[str, int]:
        """Delivery keys created more than once (should be empty)."""
        with self._state.lock:
            return dict(self._state.duplicates)

    def stats(self) -> dict[str, Any]:
        with self._state.lock:
            return {"requests": len(self._state.requests),
                    "created": len(self._state.messages),
                    "unique": len(self._state.keys),
                    "duplicates": dict(self._state.duplicates),
                    "last_new_at": self._state.last_new_at}

    def reset(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.messages.clear()
            self._state.by_sid.clear()
            self._state.keys.clear()
            self._state.duplicates.clear()
            self._state.last_new_at = 0.0
            self._state.failures.clear()
            self._state.refused.clear()

    # -- how it behaves -----------------------------------------------------------------

    @property
    def delay_ms(self) -> float:
        return self._state.delay_ms

    @delay_ms.setter
    def delay_ms(self, value: float) -> None:
        self._state.delay_ms = value

    def fail_next(self, status: int, *, code: int | None = None, message: str = "",
                  retry_after: str | None = None, times: int = 1) -> None:
        """Answer the next `times` create requests with this error; create nothing."""
        with self._state.lock:
            self._state.failures.append(_Failure(status=status, code=code, message=message,
                                                 retry_after=retry_after, times=times))

    def fail_to(self, number: str, status: int = 400, *, code: int | None = 21211,
                message: str = "") -> None:
        """Refuse every message to this number (a permanent error)."""
        with self._state.lock:
            self._state.refused[number] = _Failure(status=status, code=code, message=message)

    def drop_next(self, times: int = 1) -> None:
        """Create the next message(s) but close the connection without an answer."""
        with self._state.lock:
            self._state.failures.append(_Failure(mode="drop", times=times))

    def hang_next(self, seconds: float, times: int = 1) -> None:
        """Create the next message(s) but answer only after `seconds`."""
        with self._state.lock:
            self._state.failures.append(_Failure(mode="hang", seconds=seconds, times=times))

    def hold_lists(self, count: int) -> None:
        """The next `count` list requests are all answered once the last of them arrives
        (two reconciles that list at the same moment, whatever their timing)."""
        with self._state.lock:
            self._state.list_gate = threading.Barrier(count)
            self._state.list_gate_left = count

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        with self._state.lock:
            message = self._state.by_sid[sid]
            message.status = status
            message.error_code = error_code


def running(**kwargs: Any) -> Iterator[TwilioStub]:
    """A generator for pytest fixtures: ``yield from running()``."""
    stub = TwilioStub(**kwargs).start()
    try:
        yield stub
    finally:
        stub.stop()


MESSAGING_SERVICE_SID = "MG" + "0" * 31 + "1"
PUBLIC_URL = "https://alerts.example.org"


def serve_for(settings: Any, *, pool: list[str] | None = None, **kwargs: Any
              ) -> Iterator[TwilioStub]:
    """A pytest fixture body: a stub, and Django settings that send SMS to it through the
    Twilio backend (a Messaging Service, or the sender numbers in `pool`)::

        @pytest.fixture
        def twilio(settings):
            yield from serve_for(settings)

    `settings` is pytest-django's fixture (restored after the test). The cached transports
    are cleared before and after, so no other test sends to a stopped stub."""
    from rapidresponse.delivery.transport import drill_transport_for, transport_for

    stub = TwilioStub(**kwargs).start()
    settings.CHANNEL_BACKENDS = {**settings.CHANNEL_BACKENDS,
                                 "sms": settings.CHANNEL_BACKEND_NAMES["sms"]["twilio"]}
    settings.TWILIO_ACCOUNT_SID = stub.account_sid
    settings.TWILIO_AUTH_TOKEN = stub.auth_token
    settings.TWILIO_MESSAGING_SERVICE_SID = "" if pool else MESSAGING_SERVICE_SID
    settings.TWILIO_FROM_NUMBERS = list(pool or [])
    settings.TWILIO_API_BASE = stub.base_url
    settings.PUBLIC_URL = PUBLIC_URL
    transport_for.cache_clear()
    drill_transport_for.cache_clear()
    try:
        yield stub
    finally:
        transport_for.cache_clear()
        drill_transport_for.cache_clear()
        stub.stop()


def signature(url: str, params: dict[str, str], auth_token: str = DEFAULT_AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for a form POST to `url`."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, params))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="wait before answering")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--status", default="queued", help="status of created messages")
    args = parser.parse_args(argv)
    stub = TwilioStub(account_sid=args.account_sid, auth_token=args.auth_token,
                      delay_ms=args.delay_ms, host=args.host, port=args.port,
                      status=args.status).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(stub.port, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        stub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
