"""JSON API /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import HttpBearer
from pydantic import StrictInt

from rapidresponse.accounts import actions as account_actions
from rapidresponse.accounts import lockout, secondfactor
from rapidresponse.accounts.access import (
    CONSOLE_ROLES,
    VERIFY_ROLES,
    access_role,
    has_role,
    scope_of,
)
from rapidresponse.accounts.models import Role
from rapidresponse.accounts.tokens import bearer_token, do_issue_token, user_for_token
from rapidresponse.alerts.access import access_alert
from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.access import deliveries_in_scope
from rapidresponse.delivery.models import Delivery
from rapidresponse.incidents import actions as incident_actions
from rapidresponse.incidents import queries
from rapidresponse.incidents.access import access_incident
from rapidresponse.incidents.models import Incident, Source
from rapidresponse.lib import ratelimit
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members import actions as member_actions

api = NinjaAPI(title="Rapid Response API", version="1", urls_namespace="api-v1",
               docs_url="/docs")


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


bearer = BearerAuth()


def optional_user(request: HttpRequest) -> Any:
    token = bearer_token(request)
    if token is not None:
        user = user_for_token(token)
        if user is None:
            raise HttpError(401, _("The API token is not valid or has expired."))
        return user
    return None


@api.exception_handler(InvalidInput)
def invalid_input(request: HttpRequest, exc: InvalidInput) -> Any:
    return api.create_response(request, {"detail": _("Some fields are not valid."),
                                         "errors": exc.errors}, status=400)


@api.exception_handler(incident_actions.TransitionError)
def wrong_state(request: HttpRequest, exc: Exception) -> Any:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: Exception) -> Any:
    # A refusal that says why (a finding that would not count) keeps its reason.
    detail = (str(exc) if isinstance(exc, incident_actions.FindingRefused)
              else _("You are not allowed to do this."))
    return api.create_response(request, {"detail": detail}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> Any:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


# Messages for the errors django-ninja and pydantic raise in English, by pydantic error type.
SCHEMA_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "float_parsing": gettext_lazy("Enter a number."),
    "float_type": gettext_lazy("Enter a number."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "bool_type": gettext_lazy("Enter true or false."),
    "string_type": gettext_lazy("Enter text."),
    "list_type": gettext_lazy("Enter a list."),
    "model_attributes_type": gettext_lazy("Send a JSON object."),
    "dict_type": gettext_lazy("Send a JSON object."),
}


@api.exception_handler(SchemaError)
def invalid_schema(request: HttpRequest, exc: SchemaError) -> Any:
    """Wrong types or missing fields: a message per field, in the user's language."""
    errors: dict[str, str] = {}
    for error in exc.errors:
        path = [str(p) for p in error.get("loc", ())
                if p not in ("body", "payload", "query", "path") and not isinstance(p, int)]
        field = ".".join(path) or "__all__"
        errors.setdefault(field, str(SCHEMA_MESSAGES.get(error.get("type", ""),
                                                         _("This value is not valid."))))
    return api.create_response(request, {"detail": _("Some fields are not valid."),
                                         "errors": errors}, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> Any:
    """Our own HttpErrors are already translated; these are django-ninja's English ones."""
    message = str(exc)
    if isinstance(exc, AuthenticationError):
        message = _("Sign in first: send a valid API token (Authorization: Bearer).")
    elif message.startswith("Cannot parse request body"):
        message = _("The request body is not valid JSON.")
    return api.create_response(request, {"detail": message}, status=exc.status_code)


class TokenIn(Schema):
    username: str
    password: str
    # A code from the authenticator app, or one of the recovery codes.
    otp: str = ""


class TokenOut(Schema):
    token: str
    expires_at: datetime
    role: str


class ErrorOut(Schema):
    detail: str


@api.post("/auth/token", response={200: TokenOut, 401: ErrorOut, 429: ErrorOut},
          tags=["auth"])
def issue_token(request: HttpRequest, payload: TokenIn) -> Any:
    """A bearer token for a staff member: both factors, the password and `otp`. Wrong
    passwords and codes count towards the sign-in lockout (429) of the account and the
    address, like on the sign-in page."""
    if not ratelimit.hit("token", ratelimit.client_key(request), limit=20, window_s=300):
        raise HttpError(429, _("Too many attempts. Wait a few minutes."))
    if lockout.is_locked(request, payload.username):
        return 429, {"detail": lockout.lockout_message()}
    user = authenticate(request, username=payload.username, password=payload.password)
    staff = getattr(user, "staff", None) if user is not None else None
    if getattr(request, "axes_locked_out", False):
        return 429, {"detail": lockout.lockout_message()}
    if user is None or staff is None:
        raise HttpError(401, _("Wrong username or password."))
    if not secondfactor.has_second_factor(user):
        raise HttpError(401, _("Set up your authenticator app first: sign in once on the "
                               "website."))
    if not payload.otp.strip():
        raise HttpError(401, _("Send the code from your authenticator app (or a recovery "
                               "code) as \"otp\"."))
    check = account_actions.do_verify_second_factor(user, payload.otp)
    if check.wait_seconds:
        raise HttpError(429, _("Too many wrong codes just now: wait %(seconds)s s, then "
                               "send the code your app shows.")
                        % {"seconds": check.wait_seconds})
    if check.device is None:
        if lockout.record_failure(request, user.get_username()):
            return 429, {"detail": lockout.lockout_message()}
        raise HttpError(401, _("The code (otp) is not right. Send the one your "
                               "authenticator app shows now, or a recovery code."))
    lockout.forget_account_failures(user.get_username())
    token, expires = do_issue_token(user)
    return {"token": token, "expires_at": expires, "role": staff.role}


class ReportIn(Schema):
    latitude: float | None = None
    longitude: float | None = None
    zone: int | None = None
    activity: str
    agency: str = "unknown"
    observed_at: str | None = None
    # Strict: JSON true/false are not counts of agents or vehicles.
    size: StrictInt | None = None
    vehicles: StrictInt | None = None
    location_text: str = ""
    uniform_text: str = ""
    equipment_text: str = ""
    notes: str = ""
    contact: str = ""
    language: str = "en"
    is_drill: bool = False
    source: str | None = None


class ReportOut(Schema):
    report_id: int
    incident_id: int


@api.post("/reports", response={201: ReportOut}, tags=["reports"])
def create_report(request: HttpRequest, payload: ReportIn) -> Any:
    user = optional_user(request)
    data = payload.dict()
    staff = user is not None and has_role(user, CONSOLE_ROLES)
    if not staff:
        if not ratelimit.hit("report", ratelimit.client_key(request), limit=30, window_s=600):
            raise HttpError(429, _("Too many reports from here. Call the hotline."))
        data["is_drill"] = False
    source = Source.API
    if staff and payload.source in (Source.PHONE, Source.API):
        source = Source(payload.source)
    report = incident_actions.do_submit_report(
        incident_actions.build_report_input(data), source=source, actor=user)
    return 201, {"report_id": report.pk, "incident_id": report.incident_id}


@api.get("/incidents", tags=["incidents"])
def list_incidents(request: HttpRequest, include_closed: bool = False,
                   limit: int = 100, offset: int = 0) -> Any:
    user = optional_user(request)
    limit = max(1, min(limit, 500))
    offset = max(0, offset)
    if user is not None and has_role(user, CONSOLE_ROLES):
        # The incidents of the staff member's zones.
        qs = queries.console_queue(user, include_closed)[offset:offset + limit]
        return [queries.staff_view(i) for i in qs]
    return [queries.public_view(i) for i in queries.public_incidents()[offset:offset + limit]]


@api.get("/incidents/{incident_id}", tags=["incidents"])
def get_incident(request: HttpRequest, incident_id: int) -> Any:
    user = optional_user(request)
    incident = None
    if user is not None and has_role(user, VERIFY_ROLES):
        try:
            incident = access_incident(user, incident_id)
        except Http404:
            incident = None  # a verifier still sees what the public sees (below)
    if incident is not None:
        annotated = queries.with_counts(Incident.objects.filter(pk=incident.pk)).get()
        data = queries.staff_view(annotated)
        data["reports"] = [
            {"id": r.pk, "source": r.source, "created_at": r.created_at, "size": r.size,
             "activity": r.activity, "agency": r.agency, "observed_at": r.observed_at,
             "vehicles": r.vehicles, "location_text": r.location_text,
             "uniform_text": r.uniform_text, "equipment_text": r.equipment_text,
             "notes": r.notes}
            for r in incident.reports.all()]
        return data
    public = queries.public_incidents().filter(pk=incident_id).first()
    if public is None:
        raise Http404
    return queries.public_view(public)


class VerificationIn(Schema):
    outcome: str
    notes: str = ""


@api.post("/incidents/{incident_id}/verification", auth=bearer, tags=["incidents"])
def record_verification(request: HttpRequest, incident_id: int, payload: VerificationIn) -> Any:
    access_role(request.user, VERIFY_ROLES)
    incident = access_incident(request.user, incident_id)
    incident_actions.do_record_verification(incident, request.user,  # type: ignore[arg-type]
                                            payload.outcome, payload.notes)
    incident.refresh_from_db()
    return {"incident_id": incident.pk, "state": incident.state}


@api.post("/incidents/{incident_id}/request-verification", auth=bearer, tags=["incidents"])
def request_verification(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    sent = incident_actions.do_request_verification(incident, request.user)
    return {"incident_id": incident.pk, "state": incident.state, "verifiers_asked": len(sent)}


@api.post("/incidents/{incident_id}/resolve", auth=bearer, tags=["incidents"])
def resolve(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    incident_actions.do_resolve(incident, request.user)
    return {"incident_id": incident.pk, "state": incident.state}


@api.post("/incidents/{incident_id}/correction", auth=bearer, tags=["incidents"])
def correction(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    incident_actions.do_send_correction(incident, request.user)
    return {"incident_id": incident.pk, "state": incident.state}


@api.get("/incidents/{incident_id}/preview", auth=bearer, tags=["incidents"])
def preview(request: HttpRequest, incident_id: int) -> Any:
    """What the incident's next messages would say (alert, then all-clear and correction),
    to whom (members by language and by channel) and their SMS cost: look before
    confirming, resolving or correcting. `confirmations`: how many count and how many
    `VERIFICATIONS_REQUIRED` asks for."""
    access_role(request.user, VERIFY_ROLES)
    incident = access_incident(request.user, incident_id)
    return {
        "incident_id": incident.pk, "state": incident.state, "is_drill": incident.is_drill,
        "confirmations": {"counted": incident_actions.counted_confirmations(incident),
                          "required": settings.VERIFICATIONS_REQUIRED},
        "messages": [queries.preview_view(p) for p in queries.previews_for(incident)],
    }


def alert_view(alert: Alert, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "id": alert.pk, "incident_id": alert.incident_id, "kind": alert.kind,
        "original_id": alert.original_id, "is_drill": alert.is_drill,
        "created_at": alert.created_at, "area_name": alert.area_name,
        "radius_m": alert.radius_m, "recipient_count": alert.recipient_count,
        "texts": alert.message.bodies, "deliveries": counts,
    }


@api.get("/incidents/{incident_id}/alerts", auth=bearer, tags=["alerts"])
def incident_alerts(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    alerts = list(incident.alerts.select_related("message"))
    counts: dict[int, dict[str, int]] = {a.message_id: {} for a in alerts}
    for row in (Delivery.objects.filter(message_id__in=counts).values("message_id", "status")
                .annotate(n=Count("id"))):
        counts[row["message_id"]][row["status"]] = row["n"]
    return [alert_view(a, counts[a.message_id]) for a in alerts]


@api.get("/alerts/{alert_id}/deliveries", auth=bearer, tags=["alerts"])
def alert_deliveries(request: HttpRequest, alert_id: int, status: str | None = None,
                     limit: int = 500, offset: int = 0) -> Any:
    """The alert's deliveries to members of the staff member's zones."""
    access_role(request.user, CONSOLE_ROLES)
    alert = access_alert(request.user, alert_id)
    qs = (deliveries_in_scope(request.user, Delivery.objects.filter(message_id=alert.message_id))
          .select_related("member").order_by("rank", "id"))
    if status:
        qs = qs.filter(status=status)
    limit = max(1, min(limit, 5000))
    offset = max(0, offset)
    return {
        "alert_id": alert.pk,
        "total": qs.count(),
        "deliveries": [
            {"id": d.pk, "member_id": d.member_id, "member_name": d.member.name,
             "channel": d.channel, "language": d.language, "status": d.status,
             "rank": d.rank, "attempts": d.attempts, "sent_at": d.sent_at,
             "error": d.error}
            for d in qs[offset:offset + limit]],
    }


class MemberIn(Schema):
    name: str = ""
    phone: str = ""
    email: str = ""
    language: str = "en"
    latitude: float | None = None
    longitude: float | None = None
    radius_m: int | None = None
    # Any of "sms", "signal", "email"; Signal goes to `phone` unless `signal` gives a number.
    channels: list[str] | None = None
    signal: str = ""


@api.post("/members", auth=bearer, response={201: dict}, tags=["members"])
def create_member(request: HttpRequest, payload: MemberIn) -> Any:
    access_role(request.user, (Role.COORDINATOR,))
    data = member_actions.member_input_from_mapping(payload.dict())
    # Only where the coordinator works: a place outside their zones is refused (400).
    member = member_actions.do_create_member(data, source="api",
                                             within=scope_of(request.user).area())
    return 201, {"id": member.pk}
