"""What the API takes and gives, as the OpenAPI schema at /api/v1/openapi.json says it.

Choice fields are listed as enums from the same choices the models use. In request bodies the
action still checks them (`choice`: the schema documents, the action decides), so an unknown
value gets the action's own message in the caller's language (400), as on the web pages; a
query filter is checked here (422).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, model_validator

from rapidresponse.alerts.models import Alert
from rapidresponse.alerts.vocabulary import Activity, Agency
from rapidresponse.delivery.models import Status
from rapidresponse.dispatch.actions import DISPATCH_SKILLS, MAX_COUNT
from rapidresponse.dispatch.models import AssignmentStatus, Dispatch
from rapidresponse.incidents.models import Outcome, Source, State
from rapidresponse.members.contacts import CHOOSABLE_CHANNELS
from rapidresponse.members.models import Channel

#: Pages of a list: at most this many items at once, starting at most this far in.
MAX_LIMIT = 500
MAX_DELIVERIES_LIMIT = 5000
MAX_OFFSET = 1_000_000

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def choice(values: Iterable[str], default: Any = ..., **extra: Any) -> Any:
    """A string field whose schema lists its values; whoever uses it checks it."""
    return Field(default, json_schema_extra={"enum": list(values)}, **extra)


class Problem(Schema):
    """Every 4xx answer: what is wrong, in the caller's language (Accept-Language), and for
    invalid fields a message per field."""

    detail: str
    errors: dict[str, str] = Field(default_factory=dict,
                                   description="A message per field that is not valid.")


def answers(success: int, body: Any, *problems: int) -> dict[int, Any]:
    """The responses of an operation: its success and the problems it can answer with (every
    operation can answer 400 to input it cannot read at all)."""
    return {success: body, **{code: Problem for code in sorted({400, *problems})}}


class Closed(Schema):
    model_config = ConfigDict(extra="forbid")


# --- auth ------------------------------------------------------------------------------------


class TokenIn(Schema):
    username: str
    password: str
    # A code from the authenticator app, or one of the recovery codes.
    otp: str = ""


class TokenOut(Closed):
    token: str
    expires_at: datetime
    role: str


# --- reports and incidents ----------------------------------------------------------------


# Strict types in bodies: JSON true is not latitude 1 nor zone 1, and "34.05" is not a number.
class ReportIn(Schema):
    latitude: StrictFloat | None = None
    longitude: StrictFloat | None = None
    zone: StrictInt | None = None
    activity: str = choice(Activity.values)
    agency: str = choice(Agency.values, Agency.UNKNOWN)
    observed_at: str | None = Field(None, json_schema_extra={"format": "date-time"})
    size: StrictInt | None = None
    vehicles: StrictInt | None = None
    location_text: str = ""
    uniform_text: str = ""
    equipment_text: str = ""
    notes: str = ""
    contact: str = ""
    language: str = choice(LANGUAGES, "en")
    is_drill: StrictBool = Field(False, description="Staff only; ignored for anyone else.")
    source: Literal["phone", "api"] | None = Field(
        None, description="Staff only: a phone call typed in, or the API (the default).")


class ReportOut(Closed):
    report_id: int
    incident_id: int


class IncidentPublic(Closed):
    """What anyone may see of a confirmed incident: a coarse cell and the area's name."""

    id: int
    state: str = choice(State.values)
    activity: str = choice(Activity.values)
    agency: str = choice(Agency.values)
    area: str
    cell: str
    latitude: float
    longitude: float
    first_seen_at: datetime
    confirmed_at: datetime | None


class IncidentStaff(IncidentPublic):
    is_drill: bool
    cross_streets: str
    last_report_at: datetime
    closed_at: datetime | None
    report_count: int | None
    corroboration: int
    # Reports came in during a surge: the incident waits in the review queue.
    held: bool


class ReportView(Closed):
    id: int
    source: str = choice(Source.values)
    created_at: datetime
    size: int | None
    activity: str = choice(Activity.values)
    agency: str = choice(Agency.values)
    observed_at: datetime
    vehicles: int | None
    location_text: str
    uniform_text: str
    equipment_text: str
    notes: str


class IncidentDetail(IncidentStaff):
    reports: list[ReportView]


class VerificationIn(Schema):
    outcome: str = choice(Outcome.values)
    notes: str = ""


class IncidentState(Closed):
    incident_id: int
    state: str = choice(State.values)


class VerificationsAsked(IncidentState):
    verifiers_asked: int


# --- alerts and deliveries ---------------------------------------------------------------


class Text(Schema):
    subject: str = ""
    text: str


class AlertOut(Closed):
    id: int
    incident_id: int
    kind: str = choice(Alert.Kind.values)
    original_id: int | None
    is_drill: bool
    created_at: datetime
    area_name: str
    radius_m: int
    recipient_count: int
    texts: dict[str, Text] = Field(description="The alert's text in each language.")
    deliveries: dict[str, int] = Field(description="How many deliveries are in each status.")


class DeliveryOut(Closed):
    id: int
    member_id: int
    member_name: str
    channel: str = choice(Channel.values)
    language: str
    status: str = choice(Status.values)
    rank: int
    attempts: int
    sent_at: datetime | None
    error: str


class DeliveriesOut(Closed):
    alert_id: int
    total: int
    deliveries: list[DeliveryOut]


# --- members -------------------------------------------------------------------------------


ChannelName = Annotated[str, Field(json_schema_extra={"enum": list(CHOOSABLE_CHANNELS)})]


class MemberIn(Schema):
    name: str = ""
    phone: str = ""
    email: str = ""
    language: str = choice(LANGUAGES, "en")
    latitude: StrictFloat | None = None
    longitude: StrictFloat | None = None
    radius_m: StrictInt | None = None
    channels: list[ChannelName] | None = Field(
        None, description="Where alerts go; Signal goes to `phone` unless `signal` gives a "
                          "number.")
    signal: str = ""


class Created(Closed):
    id: int


# --- dispatch and witnesses ----------------------------------------------------------------


class DispatchIn(Schema):
    skill: str = choice(DISPATCH_SKILLS)
    count: StrictInt = Field(1, ge=1, le=MAX_COUNT)


class AssignmentView(Closed):
    username: str
    status: str = choice(AssignmentStatus.values)


class DispatchOut(Closed):
    id: int
    incident_id: int
    skill: str = choice(DISPATCH_SKILLS)
    count: int
    status: str = choice(Dispatch.Status.values)
    assignments: list[AssignmentView] = Field(
        description="Everyone asked, in the order they were asked.")


class AssignmentOut(Closed):
    dispatch_id: int
    username: str
    status: str = choice(AssignmentStatus.values)


class WitnessesIn(Schema):
    @model_validator(mode="wrap")
    @classmethod
    def _an_object(cls, data: Any, handler: Any) -> Any:
        """Only a JSON object (with every field optional, Ninja would take any value, `[null,
        null]` included, for an object of defaults)."""
        if not isinstance(data, dict):
            raise ValueError("The body must be a JSON object.")
        return handler(data)

    radius_m: StrictInt = Field(1000, ge=100, le=settings.WITNESS_MAX_RADIUS_M)
    cap: StrictInt = Field(20, ge=1, le=settings.WITNESS_MAX_CAP)


class WitnessesAsked(Closed):
    id: int
    asked: int
# --- evidence ---------------------------------------------------------------------------------


class EvidenceCreated(Closed):
    id: int
    sha256: str = Field(description="SHA-256 (hex) of the bytes received: the original's.")


def binary(description: str, *content_types: str) -> dict[str, Any]:
    """The 200 answer of an operation that sends a file (for openapi_extra)."""
    return {"responses": {200: {"description": description, "content": {
        t: {"schema": {"type": "string", "format": "binary"}} for t in content_types}}}}
