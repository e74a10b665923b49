"""JSON API /api/v1 (OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Count
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query
from ninja.errors import HttpError
from ninja.security import HttpBearer

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
from rapidresponse.api import committees, errors, evidence
from rapidresponse.api.schemas import (
    MAX_DELIVERIES_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    AlertOut,
    AssignmentOut,
    Created,
    DeliveriesOut,
    DispatchIn,
    DispatchOut,
    IncidentDetail,
    IncidentPublic,
    IncidentStaff,
    IncidentState,
    MemberIn,
    ReportIn,
    ReportOut,
    TokenIn,
    TokenOut,
    VerificationIn,
    VerificationsAsked,
    WitnessesAsked,
    WitnessesIn,
    answers,
)
from rapidresponse.delivery.access import deliveries_in_scope
from rapidresponse.delivery.models import Delivery, Status
from rapidresponse.dispatch import actions as dispatch_actions
from rapidresponse.dispatch import witnesses
from rapidresponse.dispatch.access import access_dispatch, access_own_assignment
from rapidresponse.dispatch.models import Assignment, Dispatch
from rapidresponse.incidents import actions as incident_actions
from rapidresponse.incidents import queries
from rapidresponse.incidents.access import access_incident
from rapidresponse.incidents.models import Incident, Source
from rapidresponse.lib import net, ratelimit
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


errors.install(api)


@api.post("/auth/token", response=answers(200, TokenOut, 401, 422, 429), tags=["auth"])
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


@api.post("/reports", response=answers(201, ReportOut, 401, 422, 429), tags=["reports"])
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
    report_input = incident_actions.build_report_input(data)
    if not staff:
        # Staff enter what others told them: their own network says nothing of the reporter.
        report_input.network = net.client_network(request)
    report = incident_actions.do_submit_report(report_input, source=source, actor=user)
    return 201, {"report_id": report.pk, "incident_id": report.incident_id}


@api.get("/incidents", response=answers(200, list[IncidentStaff | IncidentPublic], 401, 422),
         tags=["incidents"])
def list_incidents(request: HttpRequest, include_closed: bool = False,
                   limit: int = Query(100, ge=1, le=MAX_LIMIT),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """Confirmed incidents at coarse precision; staff see every open one (or closed ones too)
    with their counts."""
    user = optional_user(request)
    if user is not None and has_role(user, CONSOLE_ROLES):
        # The incidents of the staff member's zones.
        qs = queries.console_queue(user, include_closed)[offset:offset + limit]
        return [queries.staff_view(i) for i in qs]
    return [queries.public_view(i) for i in queries.public_incidents()[offset:offset + limit]]


@api.get("/incidents/{incident_id}",
         response=answers(200, IncidentDetail | IncidentPublic, 401, 404, 422),
         tags=["incidents"])
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


@api.post("/incidents/{incident_id}/verification", auth=bearer,
          response=answers(200, IncidentState, 401, 403, 404, 409, 422), tags=["incidents"])
def record_verification(request: HttpRequest, incident_id: int, payload: VerificationIn) -> Any:
    access_role(request.user, VERIFY_ROLES)
    incident = access_incident(request.user, incident_id)
    incident_actions.do_record_verification(incident, request.user,  # type: ignore[arg-type]
                                            payload.outcome, payload.notes)
    incident.refresh_from_db()
    return {"incident_id": incident.pk, "state": incident.state}


@api.post("/incidents/{incident_id}/request-verification", auth=bearer,
          response=answers(200, VerificationsAsked, 401, 403, 404, 409, 422),
          tags=["incidents"])
def request_verification(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    sent = incident_actions.do_request_verification(incident, request.user)
    return {"incident_id": incident.pk, "state": incident.state, "verifiers_asked": len(sent)}


@api.post("/incidents/{incident_id}/resolve", auth=bearer,
          response=answers(200, IncidentState, 401, 403, 404, 409, 422), tags=["incidents"])
def resolve(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    incident_actions.do_resolve(incident, request.user)
    return {"incident_id": incident.pk, "state": incident.state}


@api.post("/incidents/{incident_id}/correction", auth=bearer,
          response=answers(200, IncidentState, 401, 403, 404, 409, 422), tags=["incidents"])
def correction(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    incident_actions.do_send_correction(incident, request.user)
    return {"incident_id": incident.pk, "state": incident.state}


@api.get("/incidents/{incident_id}/preview", auth=bearer,
         response=answers(200, dict[str, Any], 401, 403, 404, 422), tags=["incidents"])
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


@api.get("/incidents/{incident_id}/alerts", auth=bearer,
         response=answers(200, list[AlertOut], 401, 403, 404, 422), tags=["alerts"])
def incident_alerts(request: HttpRequest, incident_id: int) -> Any:
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    alerts = list(incident.alerts.select_related("message"))
    counts: dict[int, dict[str, int]] = {a.message_id: {} for a in alerts}
    for row in (Delivery.objects.filter(message_id__in=counts).values("message_id", "status")
                .annotate(n=Count("id"))):
        counts[row["message_id"]][row["status"]] = row["n"]
    return [alert_view(a, counts[a.message_id]) for a in alerts]


@api.get("/alerts/{alert_id}/deliveries", auth=bearer,
         response=answers(200, DeliveriesOut, 401, 403, 404, 422), tags=["alerts"])
def alert_deliveries(request: HttpRequest, alert_id: int, status: Status | None = None,
                     limit: int = Query(500, ge=1, le=MAX_DELIVERIES_LIMIT),
                     offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """The alert's deliveries to members of the staff member's zones."""
    access_role(request.user, CONSOLE_ROLES)
    alert = access_alert(request.user, alert_id)
    qs = (deliveries_in_scope(request.user, Delivery.objects.filter(message_id=alert.message_id))
          .select_related("member").order_by("rank", "id"))
    if status:
        qs = qs.filter(status=status)
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


@api.post("/members", auth=bearer, response=answers(201, Created, 401, 403, 422),
          tags=["members"])
def create_member(request: HttpRequest, payload: MemberIn) -> Any:
    access_role(request.user, (Role.COORDINATOR,))
    data = member_actions.member_input_from_mapping(payload.dict())
    # Only where the coordinator works: a place outside their zones is refused (400).
    member = member_actions.do_create_member(data, source="api",
                                             within=scope_of(request.user).area())
    return 201, {"id": member.pk}


# --- dispatch and witnesses ------------------------------------------------------------------


def dispatch_view(dispatch: Dispatch) -> dict[str, Any]:
    return {"id": dispatch.pk, "incident_id": dispatch.incident_id, "skill": dispatch.skill,
            "count": dispatch.count, "status": dispatch.status,
            "assignments": [{"username": a.staff.user.username, "status": a.status}
                            for a in dispatch.assignments.select_related("staff__user")]}


def assignment_view(assignment: Assignment) -> dict[str, Any]:
    return {"dispatch_id": assignment.dispatch_id, "username": assignment.staff.user.username,
            "status": assignment.status}


@api.post("/incidents/{incident_id}/dispatches", auth=bearer,
          response=answers(201, Created, 401, 403, 404, 409, 422), tags=["dispatch"])
def create_dispatch(request: HttpRequest, incident_id: int, payload: DispatchIn) -> Any:
    """Ask for `count` people with `skill` at the incident: the nearest who can go (a
    current training, available, working the zone) are asked by SMS and push; the first
    `count` to say YES go. Too few YES within DISPATCH_WIDEN_AFTER_MINUTES: the radius
    widens and new people are asked, up to DISPATCH_MAX_RADIUS_M."""
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    dispatch = dispatch_actions.do_request_dispatch(incident, payload.skill, payload.count,
                                                    request.user)
    return 201, {"id": dispatch.pk}


@api.get("/dispatches/{dispatch_id}", auth=bearer,
         response=answers(200, DispatchOut, 401, 404, 422), tags=["dispatch"])
def get_dispatch(request: HttpRequest, dispatch_id: int) -> Any:
    """Who was asked and what each said: asked, accepted, declined, covered, checked_in,
    checked_out. Dispatchers and coordinators of the incident's zone, and those asked."""
    return dispatch_view(access_dispatch(request.user, dispatch_id))


def _own(request: HttpRequest, dispatch_id: int, act: Any) -> Any:
    assignment = access_own_assignment(request.user, dispatch_id)
    return assignment_view(act(assignment, "api"))


@api.post("/dispatches/{dispatch_id}/accept", auth=bearer,
          response=answers(200, AssignmentOut, 401, 403, 404, 409, 422), tags=["dispatch"])
def accept_dispatch(request: HttpRequest, dispatch_id: int) -> Any:
    """YES, with your own token: `accepted` while places are left, else `covered`."""
    return _own(request, dispatch_id, dispatch_actions.do_accept)


@api.post("/dispatches/{dispatch_id}/decline", auth=bearer,
          response=answers(200, AssignmentOut, 401, 403, 404, 409, 422), tags=["dispatch"])
def decline_dispatch(request: HttpRequest, dispatch_id: int) -> Any:
    return _own(request, dispatch_id, dispatch_actions.do_decline)


@api.post("/dispatches/{dispatch_id}/check-in", auth=bearer,
          response=answers(200, AssignmentOut, 401, 403, 404, 409, 422), tags=["dispatch"])
def check_in(request: HttpRequest, dispatch_id: int) -> Any:
    """Arrived, with your own token (after accepting)."""
    return _own(request, dispatch_id, dispatch_actions.do_check_in)


@api.post("/dispatches/{dispatch_id}/check-out", auth=bearer,
          response=answers(200, AssignmentOut, 401, 403, 404, 409, 422), tags=["dispatch"])
def check_out(request: HttpRequest, dispatch_id: int) -> Any:
    """Left, with your own token (after checking in)."""
    return _own(request, dispatch_id, dispatch_actions.do_check_out)


@api.post("/incidents/{incident_id}/witnesses", auth=bearer,
          response=answers(201, WitnessesAsked, 401, 403, 404, 409, 422), tags=["dispatch"])
def ask_witnesses(request: HttpRequest, incident_id: int, payload: WitnessesIn) -> Any:
    """A confirmed incident only (409 otherwise): the members who opted in to witness
    peacefully, with a place within `radius_m`, nearest first and at most `cap`, are asked by
    SMS (reply YES if coming). All who said YES are stood down when the incident is over."""
    access_role(request.user, CONSOLE_ROLES)
    incident = access_incident(request.user, incident_id)
    witness_request, asked = witnesses.do_request_witnesses(
        incident, payload.radius_m, payload.cap, request.user)
    return 201, {"id": witness_request.pk, "asked": asked}
# Evidence (its own router, behind the bearer token).
api.add_router("", evidence.router, auth=bearer)
# Committees (its own router, behind the bearer token).
api.add_router("", committees.router, auth=bearer)
