"""The JSON API fuzzed by schemathesis from its own schema (/api/v1/openapi.json), in this
process through Django's WSGI handler: anonymous, with a coordinator's token, and with the
token on incidents and alerts that exist. No answer may be a 5xx, have a status code the
schema does not declare, or a body that breaks the schema; data the schema forbids must be
refused.

Bounded: FUZZ_EXAMPLES examples per operation and phase (default 25; `make fuzz` and CI
use more), with no deadline per example."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from rapidresponse.accounts.models import Role
from rapidresponse.alerts.models import Alert
from rapidresponse.incidents.actions import (
    build_report_input,
    do_record_verification,
    do_submit_report,
)
from tests.conftest import BOYLE, make_member, persona

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance,
          content_type_conformance, response_schema_conformance, negative_data_rejection,
          ignored_auth]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=list(HealthCheck), database=None)


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@contextmanager
def in_this_transaction() -> Iterator[None]:
    """The app answers in this test's database transaction. Django closes connections it
    thinks are stale at the start and end of each request; inside a test's transaction that
    would end the transaction, so (as Django's test client does) not here. Around each call,
    not in a fixture: a fixture's own test-client requests connect the handler again."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_token(db: Any) -> str:
    """A coordinator's token, issued the way tests/conftest.py issues its personas' (today
    POST /api/v1/auth/token with both factors)."""
    return persona("fuzz-coordinator", Role.COORDINATOR).token


def signed_in(case: Any, token: str) -> dict[str, str]:
    """The token as the header to send explicitly (so ignored_auth knows it is real and asks
    again without it), and on the case itself (so a case generated without its header is no
    longer taken for a request that breaks the schema)."""
    header = {"Authorization": f"Bearer {token}"}
    case.headers = {**(case.headers or {}), **header}
    return header


@pytest.fixture
def existing(zone: Any) -> dict[str, int]:
    """An incident that was confirmed and alerted, with a member who got the alert."""
    make_member("Ana", "es", phone="+12135550123")
    report = do_submit_report(build_report_input(
        {"latitude": BOYLE[0], "longitude": BOYLE[1], "activity": "arrests", "agency": "ice"}),
        source="web", actor=None)
    checker = persona("fuzz-verifier", Role.VERIFIER).user
    do_record_verification(report.incident, checker, "confirmed")
    alert = Alert.objects.get(incident_id=report.incident_id)
    return {"incident_id": report.incident_id, "alert_id": alert.pk}


@schema.parametrize()
@FUZZ
def test_anonymous_callers(case: Any, zone: Any) -> None:
    with in_this_transaction():
        case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_a_coordinator(case: Any, staff_token: str, zone: Any) -> None:
    with in_this_transaction():
        response = case.call_and_validate(headers=signed_in(case, staff_token), checks=CHECKS)
    assert response.status_code != 401 or case.path == "/api/v1/auth/token", "no token?"


@schema.parametrize()
@FUZZ
def test_a_coordinator_on_what_exists(case: Any, staff_token: str,
                                      existing: dict[str, int]) -> None:
    # A case meant to break the schema in its path keeps its path: only a valid id is
    # replaced by one that exists.
    if case.meta is None or not case.meta.is_negative_at(ParameterLocation.PATH):
        for name in case.path_parameters or {}:
            if name in existing:
                case.path_parameters[name] = existing[name]
    with in_this_transaction():
        response = case.call_and_validate(headers=signed_in(case, staff_token), checks=CHECKS)
    assert response.status_code != 401 or case.path == "/api/v1/auth/token", "no token?"
