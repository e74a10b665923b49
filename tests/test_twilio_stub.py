"""The local Twilio stub answers like Twilio: the other Twilio tests rely on it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.stubs.twilio_stub import TwilioStub

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stub() -> Iterator[TwilioStub]:
    with TwilioStub() as running:
        yield running


def _api(stub: TwilioStub) -> httpx.Client:
    return httpx.Client(base_url=f"{stub.base_url}/2010-04-01/Accounts/{stub.account_sid}",
                        auth=(stub.account_sid, stub.auth_token), timeout=5)


def _send(stub: TwilioStub, to: str = "+12135550101", body: str = "hello",
          d: int | None = 1) -> httpx.Response:
    data = {"To": to, "Body": body, "MessagingServiceSid": "MG" + "0" * 32}
    if d is not None:
        data["StatusCallback"] = f"https://alerts.example.org/hooks/twilio/status?d={d}"
    with _api(stub) as api:
        return api.post("/Messages.json", data=data)


def test_create_answers_a_queued_message_like_twilio(stub):
    r = _send(stub)
    assert r.status_code == 201
    body = r.json()
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    assert body["status"] == "queued"
    assert body["to"] == "+12135550101"
    assert stub.messages[0].status_callback.endswith("?d=1")


def test_wrong_credentials_are_refused(stub):
    with httpx.Client(timeout=5) as api:
        r = api.post(f"{stub.base_url}/2010-04-01/Accounts/{stub.account_sid}/Messages.json",
                     data={"To": "+12135550101", "Body": "x", "From": "+12135550100"},
                     auth=(stub.account_sid, "wrong"))
    assert r.status_code == 401
    assert r.json()["code"] == 20003
    assert stub.messages == []


def test_a_message_can_be_fetched_by_sid(stub):
    sid = _send(stub).json()["sid"]
    stub.set_status(sid, "delivered")
    with _api(stub) as api:
        r = api.get(f"/Messages/{sid}.json")
    assert r.status_code == 200
    assert r.json()["status"] == "delivered"


def test_an_unknown_sid_is_404(stub):
    with _api(stub) as api:
        r = api.get("/Messages/SM" + "f" * 32 + ".json")
    assert r.status_code == 404
    assert r.json()["code"] == 20404


def test_the_list_filters_by_recipient_and_date_sent(stub):
    _send(stub, to="+12135550101", d=1)
    _send(stub, to="+12135550102", d=2)
    with _api(stub) as api:
        today = api.get("/Messages.json", params={"To": "+12135550101",
                                                  "DateSent>": "2000-01-01"}).json()
        future = api.get("/Messages.json", params={"To": "+12135550101",
                                                   "DateSent>": "2999-01-01"}).json()
    assert [m["to"] for m in today["messages"]] == ["+12135550101"]
    assert future["messages"] == []


def test_retained_bodies_are_not_shown_when_discarded(stub):
    with _api(stub) as api:
        sid = api.post("/Messages.json", data={
            "To": "+12135550101", "Body": "secret", "From": "+12135550100",
            "ContentRetention": "discard"}).json()["sid"]
        fetched = api.get(f"/Messages/{sid}.json").json()
    assert fetched["body"] == ""
    assert stub.requests[0].body == "secret"


def test_told_to_throttle_it_answers_429_with_retry_after(stub):
    stub.fail_next(429, retry_after="30")
    r = _send(stub)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "30"
    assert stub.messages == []
    assert _send(stub).status_code == 201


def test_a_refused_number_gets_twilio_error_code(stub):
    stub.fail_to("+12135550199", 400, code=21610)
    r = _send(stub, to="+12135550199")
    assert r.status_code == 400
    assert r.json()["code"] == 21610


def test_a_dropped_answer_still_creates_the_message(stub):
    stub.drop_next()
    with pytest.raises(httpx.HTTPError):
        _send(stub)
    assert len(stub.messages) == 1


def test_a_hung_answer_times_out_the_client_but_creates_the_message(stub):
    stub.hang_next(2)
    data = {"To": "+12135550101", "Body": "x", "From": "+12135550100"}
    with httpx.Client(timeout=0.3, auth=(stub.account_sid, stub.auth_token)) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.post(f"{stub.base_url}/2010-04-01/Accounts/{stub.account_sid}/Messages.json",
                     data=data)
    assert len(stub.messages) == 1


def test_duplicates_are_counted_by_delivery(stub):
    _send(stub, d=7)
    _send(stub, d=8)
    _send(stub, d=7)
    assert stub.duplicates() == {"d:7": 2}


def test_it_runs_as_a_process_and_prints_its_port():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.stubs.twilio_stub", "--port", "0", "--delay-ms", "20"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        sid = "AC" + "0" * 31 + "1"
        with httpx.Client(timeout=5, auth=(sid, "stub-auth-token-0123456789abcdef")) as api:
            for d in (1, 2, 2):
                api.post(f"{base}/2010-04-01/Accounts/{sid}/Messages.json", data={
                    "To": "+12135550101", "Body": "x", "From": "+12135550100",
                    "StatusCallback": f"https://x.example/hooks/twilio/status?d={d}"})
            stats = api.get(f"{base}/_stub/stats").json()
            api.post(f"{base}/_stub/fail", content=json.dumps({"status": 500}))
            failed = api.post(f"{base}/2010-04-01/Accounts/{quote(sid)}/Messages.json", data={
                "To": "+12135550101", "Body": "x", "From": "+12135550100"})
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert stats["created"] == 3
    assert stats["duplicates"] == {"d:2": 2}
    assert failed.status_code == 500
    assert process.returncode == 0
