"""Reports, clustering into incidents, verification and the incident state machine.

Every transition goes through `_transition`, which follows the table in transitions.py and
writes an audit entry."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.access import VERIFY_ROLES, scope_of, staff_of
from rapidresponse.accounts.models import Role, Staff
from rapidresponse.alerts.actions import do_send_alert, do_send_follow_up
from rapidresponse.channels.sms import questions
from rapidresponse.delivery import outbox
from rapidresponse.incidents import events, surge
from rapidresponse.incidents.messages import (
    VERIFY_QUESTION,
    dispatch_bodies,
    stand_down_bodies,
)
from rapidresponse.incidents.models import (
    OPEN_STATES,
    UNVERIFIED_STATES,
    Activity,
    Agency,
    Incident,
    Outcome,
    Report,
    State,
    Verification,
    VerificationRequest,
)
from rapidresponse.incidents.queries import corroborations, facts_of, with_counts
from rapidresponse.incidents.transitions import RULED_OUT, TABLE, Step, allowed
from rapidresponse.lib import crypto, geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.contacts import kind_of, normalise, reporter_index_for
from rapidresponse.members.models import language_codes
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import middle, with_ancestors, zone_for_cell

Actor = User | AnonymousUser | None

MAX_SIZE = 1000
MAX_VEHICLES = 200
MAX_AGE = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=10)


class TransitionError(Exception):
    """The incident is not in a state that allows this action."""


class FindingRefused(PermissionDenied):
    """This person may not record this finding on this incident: the message says why, in
    their language (403)."""


def _not_now(state: str) -> TransitionError:
    return TransitionError(_("This incident is %(state)s; that action is not possible now.")
                           % {"state": State(state).label})


def check_step(incident: Incident, step: Step) -> None:
    """Raise TransitionError unless the incident's state allows `step` now (what a page
    checks before it shows what the step would send)."""
    if not allowed(incident, step):
        raise _not_now(incident.state)


@dataclass
class ReportInput:
    cell: int
    activity: str
    agency: str
    observed_at: datetime
    size: int | None = None
    vehicles: int | None = None
    location_text: str = ""
    uniform_text: str = ""
    equipment_text: str = ""
    notes: str = ""
    contact: str = ""
    contact_kind: str = ""
    language: str = "en"
    is_drill: bool = False
    reporter_token: str = ""
    # The client's network (lib.net.client_network) for a web or API report: hashed with a
    # key of the day into Report.network_key, never stored as it is.
    network: str = ""


def _int_field(raw: Any, name: str, low: int, high: int, errors: dict[str, str]) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[name] = _("Enter a whole number.")
        return None
    if not low <= value <= high:
        errors[name] = _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
        return None
    return value


def _text_field(raw: Any, name: str, limit: int, errors: dict[str, str]) -> str:
    value = str(raw or "").strip()
    if len(value) > limit:
        errors[name] = _("Too long: %(limit)s characters at most.") % {"limit": limit}
    return value


def build_report_input(data: dict[str, Any], *, now: datetime | None = None) -> ReportInput:
    """Validate a report from any source; raise InvalidInput with a message per field."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    cell = None
    lat, lng, zone_id = data.get("latitude"), data.get("longitude"), data.get("zone")
    if lat not in (None, "") or lng not in (None, ""):
        try:
            cell = geo.cell_for(float(lat), float(lng),  # type: ignore[arg-type]
                                settings.H3_REPORT_RESOLUTION)
        except (TypeError, ValueError):
            errors["location"] = _("The location is not a valid latitude and longitude.")
    elif zone_id not in (None, ""):
        try:
            # The middle of the zone, not whichever of its cells the database returns first.
            point = middle(Zone.objects.get(pk=int(zone_id)))  # type: ignore[arg-type]
            cell = geo.cell_for(*point, settings.H3_REPORT_RESOLUTION) if point else None
        except (ValueError, TypeError, Zone.DoesNotExist):
            cell = None
        if cell is None:
            errors["location"] = _("Choose a neighbourhood from the list.")
    else:
        errors["location"] = _("Say where: put a pin on the map, use your location, "
                               "or choose a neighbourhood.")
    activity = str(data.get("activity") or "").strip()
    if activity not in Activity.values:
        errors["activity"] = _("Choose what you saw.")
    agency = str(data.get("agency") or Agency.UNKNOWN).strip()
    if agency not in Agency.values:
        errors["agency"] = _("Choose who they seemed to be, or 'Not sure'.")
    observed_at = now
    raw_time = data.get("observed_at")
    if raw_time not in (None, ""):
        parsed = raw_time if isinstance(raw_time, datetime) else None
        if parsed is None:
            try:
                parsed = parse_datetime(str(raw_time).strip())
            except ValueError:
                parsed = None
        if parsed is None:
            errors["observed_at"] = _("Enter the time as a date and time.")
        else:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            if parsed > now + CLOCK_SKEW:
                errors["observed_at"] = _("The time cannot be in the future.")
            elif parsed < now - MAX_AGE:
                errors["observed_at"] = _("Reports must be about the last 24 hours.")
            else:
                observed_at = parsed
    size = _int_field(data.get("size"), "size", 1, MAX_SIZE, errors)
    vehicles = _int_field(data.get("vehicles"), "vehicles", 0, MAX_VEHICLES, errors)
    contact_raw = _text_field(data.get("contact"), "contact", 120, errors)
    contact, contact_kind = "", ""
    if contact_raw:
        kind = kind_of(contact_raw)
        try:
            contact, contact_kind = normalise(kind, contact_raw), kind
        except ValidationError as exc:
            errors["contact"] = exc.messages[0]
    language = str(data.get("language") or "en")
    if language not in language_codes():
        errors["language"] = _("Choose one of these languages: %(langs)s.") % {
            "langs": ", ".join(language_codes())}
    result = ReportInput(
        cell=cell or 0, activity=activity, agency=agency, observed_at=observed_at, size=size,
        vehicles=vehicles,
        location_text=_text_field(data.get("location_text"), "location_text", 200, errors),
        uniform_text=_text_field(data.get("uniform_text"), "uniform_text", 200, errors),
        equipment_text=_text_field(data.get("equipment_text"), "equipment_text", 200, errors),
        notes=_text_field(data.get("notes"), "notes", 2000, errors),
        contact=contact, contact_kind=contact_kind,
        language=language,
        is_drill=bool(data.get("is_drill")),
        reporter_token=str(data.get("reporter_token") or "")[:100],
    )
    if errors:
        raise InvalidInput(errors)
    return result


def find_cluster(data: ReportInput, now: datetime) -> Incident | None:
    """An open incident in the same or a neighbouring cell with a recent report."""
    res = settings.H3_MEMBER_RESOLUTION
    neighbours = geo.disk(geo.parent(data.cell, res), 1)
    since = now - timedelta(minutes=settings.CLUSTER_WINDOW_MINUTES)
    candidates = Incident.objects.filter(
        state__in=(State.REPORTED, State.VERIFYING, State.CONFIRMED),
        last_report_at__gte=since, is_drill=data.is_drill,
    ).order_by("-last_report_at")
    for incident in candidates[:200]:
        if geo.parent(incident.cell, res) in neighbours:
            return incident
    return None


@transaction.atomic
def do_submit_report(data: ReportInput, *, source: str, actor: Actor = None) -> Report:
    """Take a report (never refused here): cluster it into an incident, and hold both for
    review when it arrives in a surge (surge.py)."""
    now = timezone.now()
    verdict = surge.check(data.cell, now)
    incident = find_cluster(data, now)
    if incident is None:
        incident = Incident.objects.create(
            state=State.REPORTED, is_drill=data.is_drill, cell=data.cell,
            zone=zone_for_cell(data.cell), activity=data.activity, agency=data.agency,
            first_seen_at=data.observed_at, last_report_at=now)
        audit.record(actor, "incident.created", incident, to_state=State.REPORTED,
                     source=source)
        events.new_incident(incident)
    else:
        incident.last_report_at = now
        if data.observed_at < incident.first_seen_at:
            incident.first_seen_at = data.observed_at
        if incident.agency == Agency.UNKNOWN and data.agency != Agency.UNKNOWN:
            incident.agency = data.agency
        incident.save(update_fields=["last_report_at", "first_seen_at", "agency", "updated_at"])
    if verdict.held and not incident.held:
        incident.held = True
        Incident.objects.filter(pk=incident.pk).update(held=True)
        audit.record(None, "incident.held", incident,
                     scope="network" if all(s.cell is None for s in verdict.surges)
                     else "place")
    for current in verdict.surges:
        if current.notified_at is None:
            surge.notify(current, incident)
    if data.contact:
        reporter_key = reporter_index_for(data.contact_kind, data.contact)
    elif data.reporter_token:
        reporter_key = crypto.reporter_index("token", data.reporter_token)
    else:
        reporter_key = ""
    user = actor if actor is not None and actor.is_authenticated else None
    report = Report.objects.create(
        incident=incident, source=source, language=data.language, size=data.size,
        activity=data.activity, cell=data.cell, location_text=data.location_text,
        agency=data.agency, uniform_text=data.uniform_text, observed_at=data.observed_at,
        vehicles=data.vehicles, equipment_text=data.equipment_text, notes=data.notes,
        contact_encrypted=crypto.encrypt(data.contact) if data.contact else "",
        reporter_key=reporter_key, entered_by=user, is_drill=data.is_drill,
        network_key=surge.network_key(data.network, timezone.localdate(now)),
        held=verdict.held)
    audit.record(actor, "report.added", incident, report_id=report.pk, source=source)
    return report


def corroboration(incident: Incident) -> int:
    """Independent reporters (queries.corroborations: distinct phones, networks and cells)."""
    return corroborations(with_counts(Incident.objects.filter(pk=incident.pk)).get())


def _transition(incident: Incident, step: Step, actor: Actor, *, to: str | None = None,
                **detail: Any) -> None:
    """Move the incident along the table (transitions.py), under a row lock, and record it."""
    transition = TABLE[step]
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.state not in transition.allowed_from:
        raise _not_now(locked.state)
    from_state = locked.state
    target = to or transition.to
    assert target is not None
    incident.state = target
    now = timezone.now()
    if target == State.CONFIRMED:
        incident.confirmed_at = now
    if target not in OPEN_STATES:
        incident.closed_at = now
    # Only the fields this transition owns: the caller's copy may predate a new report.
    incident.save(update_fields=["state", "confirmed_at", "closed_at", "updated_at"])
    audit.record(actor, transition.audit or f"incident.{target}", incident,
                 from_state=from_state, to_state=target, **detail)
    if target not in OPEN_STATES and from_state in OPEN_STATES:
        for hook in _closing_hooks.values():
            hook(incident, actor)


#: What the apps above incidents do when an incident is over (resolved, ruled out, a false
#: alarm, expired), in the transaction of that step: dispatch stands down the responders and
#: witnesses it asked. Registered in AppConfig.ready() with `on_close`.
ClosingHook = Callable[[Incident, Actor], object]
_closing_hooks: dict[str, ClosingHook] = {}


def on_close(name: str) -> Callable[[ClosingHook], ClosingHook]:
    """Register what to do when an incident is over (a decorator)."""
    def register(fn: ClosingHook) -> ClosingHook:
        _closing_hooks[name] = fn
        return fn
    return register


#: Who else may be asked to verify, from the apps above incidents (responders: the verifiers
#: on shift for the incident's zone, and trained verifiers who are available). A finder
#: returns (staff, rank, distance) for each person: rank ON_SHIFT_PRIMARY and
#: ON_SHIFT_BACKUP go first, then everyone (ANYONE) by distance in resolution-8 rings.
ON_SHIFT_PRIMARY, ON_SHIFT_BACKUP, ANYONE = 0, 1, 2
VerifierFinder = Callable[[Incident], list[tuple[Staff, int, int]]]
_verifier_finders: dict[str, VerifierFinder] = {}


def verifier_finder(name: str) -> Callable[[VerifierFinder], VerifierFinder]:
    """Register a finder of verifiers (a decorator), in AppConfig.ready()."""
    def register(fn: VerifierFinder) -> VerifierFinder:
        _verifier_finders[name] = fn
        return fn
    return register


def _works_here(incident: Incident) -> Q:
    """Staff who work the incident's zone: holding it or a zone around it, or network-wide
    (an incident outside every zone: network-wide staff only)."""
    return Q(network_wide=True) | Q(zones__in=with_ancestors(incident.zone_id))


def _on_call_by_distance(incident: Incident) -> list[tuple[Staff, int, int]]:
    """Staff with the verifier role and "on call" set who work the incident's zone, by the
    distance of their member record's nearest watch area (10**6 when they have none)."""
    staff = (Staff.objects.filter(_works_here(incident), role=Role.VERIFIER, on_call=True,
                                  user__is_active=True, member__isnull=False)
             .distinct().select_related("member", "user")
             .prefetch_related("member__watch_areas"))
    origin = geo.parent(incident.cell, settings.H3_MEMBER_RESOLUTION)
    ranked = []
    for person in staff:
        cells = [w.cell for w in person.member.watch_areas.all()]  # type: ignore[union-attr]
        distances = [d for d in (geo.grid_distance(origin, c) for c in cells) if d is not None]
        ranked.append((person, ANYONE, min(distances) if distances else 10**6))
    return ranked


def on_call_verifiers(incident: Incident, limit: int) -> list[Staff]:
    """On-call verifiers who work the incident's zone, nearest the place first (by their
    coarse home cell)."""
    return _first(_on_call_by_distance(incident), limit)


def verifiers_for(incident: Incident, limit: int) -> list[Staff]:
    """Whom to ask to verify: those on shift for the place (primary, then backup), then the
    on-call verifiers and every other finder's people, nearest first; each once, only
    people the outbox can reach."""
    ranked = _on_call_by_distance(incident)
    local = set(Staff.objects.filter(_works_here(incident)).values_list("pk", flat=True))
    for finder in _verifier_finders.values():
        ranked += [(s, rank, d) for s, rank, d in finder(incident)
                   if s.member_id is not None and s.pk in local]
    return _first(ranked, limit)


def _first(ranked: list[tuple[Staff, int, int]], limit: int) -> list[Staff]:
    chosen: list[Staff] = []
    for person, _rank, _d in sorted(ranked, key=lambda r: (r[1], r[2], r[0].pk)):
        if person.pk not in {p.pk for p in chosen}:
            chosen.append(person)
        if len(chosen) == limit:
            break
    return chosen


@transaction.atomic
def do_request_verification(incident: Incident, actor: Actor) -> list[VerificationRequest]:
    _transition(incident, Step.REQUEST_VERIFICATION, actor)
    url = settings.PUBLIC_URL + reverse("verify", args=[incident.pk])
    requests = []
    already = set(incident.verification_requests.values_list("verifier_id", flat=True))
    # A flood must not send every verifier out to lures: a held incident asks fewer.
    limit = (settings.SURGE_VERIFIERS_PER_REQUEST if incident.held
             else settings.VERIFIERS_PER_REQUEST)
    # A second request asks the next people, not those asked before (none left: nobody).
    fresh = [v for v in verifiers_for(incident, limit + len(already)) if v.pk not in already]
    for verifier in fresh[:limit]:
        assert verifier.member is not None
        message = outbox.send_to_member(verifier.member, "dispatch",
                                        dispatch_bodies(incident, url),
                                        is_drill=incident.is_drill)
        user = actor if actor is not None and actor.is_authenticated else None
        request = VerificationRequest.objects.create(
            incident=incident, verifier=verifier, requested_by=user, message=message)
        # "Reply YES if you are going": the answer comes back to hotline.verifier_answers.
        questions.ask_member(verifier.member, VERIFY_QUESTION, request.pk,
                             ttl=timedelta(minutes=settings.INCIDENT_EXPIRY_MINUTES))
        requests.append(request)
    return requests


MAX_NOTES = 2000


def finding_refusal(incident: Incident, user: Actor, outcome: str) -> str | None:
    """Why this person may not record this finding on this incident (None: they may).

    A finding comes from a verifier, dispatcher or coordinator who was asked to verify this
    incident (a verification request, open while the incident waits) or who works its zone.
    A confirmation never comes from the author of one of its reports (a dispatcher who typed
    in the call, a staff member who reported through the API): one person alone must not be
    able to raise an alert."""
    staff = staff_of(user)
    if staff is None or staff.role not in VERIFY_ROLES:
        return _("Only verifiers, dispatchers and coordinators record findings.")
    asked = incident.verification_requests.filter(verifier=staff).exists()
    if not asked and not scope_of(user).covers(incident.zone_id):
        return _("You were not asked to verify this incident, and it is not in the zones you "
                 "work in.")
    if outcome == Outcome.CONFIRMED and incident.reports.filter(entered_by=staff.user).exists():
        return _("You entered a report of this incident, so your confirmation cannot count: "
                 "another verifier must confirm it.")
    return None


def check_finding(incident: Incident, user: Actor, outcome: str, notes: str = "") -> str:
    """Validate a finding before it is recorded (or before the page shows what it would
    send): InvalidInput for bad fields, TransitionError when the incident no longer waits,
    FindingRefused when this person's finding would not count. Returns the clean notes."""
    errors = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose an outcome.")
    notes = str(notes or "").strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = _("Too long: %(limit)s characters at most.") % {"limit": MAX_NOTES}
    if errors:
        raise InvalidInput(errors)
    if not allowed(incident, Step.RECORD_FINDING):
        raise _not_now(incident.state)
    refusal = finding_refusal(incident, user, outcome)
    if refusal is not None:
        raise FindingRefused(refusal)
    return notes


def counted_confirmations(incident: Incident) -> int:
    """Confirmations that count towards VERIFICATIONS_REQUIRED: one per person, none from
    the author of one of the incident's reports (a report added after someone confirmed
    takes their confirmation away)."""
    authors = incident.reports.filter(entered_by__isnull=False).values("entered_by")
    return (incident.verifications.filter(outcome=Outcome.CONFIRMED)
            .exclude(verifier_id__in=authors).count())


def confirmations_with(incident: Incident, user: Actor) -> int:
    """How many confirmations would count once this person confirms too."""
    counted = counted_confirmations(incident)
    already = incident.verifications.filter(verifier_id=getattr(user, "pk", None),
                                            outcome=Outcome.CONFIRMED).exists()
    return counted if already else counted + 1


@transaction.atomic
def do_record_verification(incident: Incident, verifier: User, outcome: str,
                           notes: str = "") -> Verification:
    """A verifier's finding (see finding_refusal for who may give one). Enough distinct
    confirmations confirm the incident and alert; any other finding rules it out."""
    # Lock the incident first: findings recorded at the same moment are counted one after
    # the other, so two simultaneous confirmations still reach VERIFICATIONS_REQUIRED.
    Incident.objects.select_for_update().get(pk=incident.pk)
    incident.refresh_from_db()
    notes = check_finding(incident, verifier, outcome, notes)
    verification, _created = Verification.objects.update_or_create(
        incident=incident, verifier=verifier, defaults={"outcome": outcome, "notes": notes})
    audit.record(verifier, TABLE[Step.RECORD_FINDING].audit, incident, outcome=outcome)
    if outcome == Outcome.CONFIRMED:
        confirmations = counted_confirmations(incident)
        if confirmations >= settings.VERIFICATIONS_REQUIRED:
            _transition(incident, Step.CONFIRM, verifier, confirmations=confirmations)
            do_send_alert(facts_of(incident), verifier)
            _stand_down_verifiers(incident, verifier)
    else:
        _transition(incident, Step.RULE_OUT, verifier, to=RULED_OUT[Outcome(outcome)])
        _stand_down_verifiers(incident, verifier)
    return verification


def _stand_down_verifiers(incident: Incident, actor: User) -> int:
    """The incident is verified: the verifiers asked who gave no finding are told they are
    not needed, and their YES is waited for no more."""
    found = incident.verifications.values("verifier_id")
    waiting = list(incident.verification_requests.exclude(verifier__user_id__in=found)
                   .select_related("verifier__member"))
    if not waiting:
        return 0
    bodies = stand_down_bodies(incident)
    for request in waiting:
        questions.close(VERIFY_QUESTION, request.pk)
        if request.verifier.member is not None:
            outbox.send_to_member(request.verifier.member, "dispatch", bodies,
                                  is_drill=incident.is_drill)
    audit.record(actor, "incident.verifiers_stood_down", incident, told=len(waiting))
    return len(waiting)


@transaction.atomic
def do_resolve(incident: Incident, actor: Actor) -> None:
    """The activity is over: tell everyone who got the alert."""
    _transition(incident, Step.RESOLVE, actor)
    do_send_follow_up(facts_of(incident), "all_clear", actor)


@transaction.atomic
def do_send_correction(incident: Incident, actor: Actor) -> None:
    """The alert was wrong: mark a false alarm and correct it to exactly the same people."""
    _transition(incident, Step.CORRECT, actor)
    do_send_follow_up(facts_of(incident), "correction", actor)


@transaction.atomic
def do_set_cross_streets(incident: Incident, text: str, actor: Actor) -> None:
    value = text.strip()
    if len(value) > 120:
        raise InvalidInput({"cross_streets": _("Too long: %(limit)s characters at most.")
                            % {"limit": 120}})
    old = incident.cross_streets
    incident.cross_streets = value
    incident.save(update_fields=["cross_streets", "updated_at"])
    audit.record(actor, "incident.place_edited", incident, old=old, new=value)


def do_expire_stale(now: datetime | None = None) -> int:
    """Incidents never verified expire after INCIDENT_EXPIRY_MINUTES without new reports."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.INCIDENT_EXPIRY_MINUTES)
    count = 0
    for incident in Incident.objects.filter(state__in=UNVERIFIED_STATES,
                                            last_report_at__lt=cutoff):
        with transaction.atomic():
            try:
                _transition(incident, Step.EXPIRE, None)
                count += 1
            except TransitionError:
                continue
    return count


def new_reporter_token() -> str:
    return secrets.token_urlsafe(16)


