"""Dispatching responders to an incident (the life of a dispatch is drawn in models.py).

`do_request_dispatch` asks the nearest people who can go for the skill (responders.queries:
a current training, not away, working the incident's zone), within DISPATCH_RADIUS_M of the
place; when nobody is that close it widens at once (doubling) up to DISPATCH_MAX_RADIUS_M.
Each person asked gets the request on their channels (SMS, push...) through the outbox, and
an SMS question (channels.sms.questions) so that a YES or NO comes back here. The first
`count` YES are assigned; the others asked are told it is covered. A round that got too few
YES within DISPATCH_WIDEN_AFTER_MINUTES widens (the periodic job in periodic.py); at the
widest radius with nobody new to ask, the dispatcher is told nobody is left.

Everything is written on the incident's timeline (audit entries on the incident)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.models import Staff
from rapidresponse.channels.sms import questions
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Kind
from rapidresponse.dispatch import messages
from rapidresponse.dispatch.models import Assignment, AssignmentStatus, Dispatch
from rapidresponse.incidents.actions import TransitionError
from rapidresponse.incidents.models import OPEN_STATES, Incident, State
from rapidresponse.lib import geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.responders.models import Skill
from rapidresponse.responders.queries import Nearby, available_responders

Actor = User | AnonymousUser | None

#: Skills a dispatcher may send people for (a dispatcher is not sent anywhere).
DISPATCH_SKILLS = [s for s in Skill.values if s != Skill.DISPATCHER]
MAX_COUNT = 20
#: People asked in one round for each person still needed: a few more than needed, since
#: not everyone can go; the first to say YES are assigned.
ASK_PER_PLACE = 3
#: Assignments that count as going.
GOING = (AssignmentStatus.ACCEPTED, AssignmentStatus.CHECKED_IN, AssignmentStatus.CHECKED_OUT)
LIVE = (Dispatch.Status.OPEN, Dispatch.Status.FILLED, Dispatch.Status.EXHAUSTED)


class NotNow(TransitionError):
    """The dispatch or the assignment is not in a state that allows this (409)."""


def rings_for(radius_m: int) -> int:
    return max(1, geo.rings_for_radius(radius_m, settings.H3_MEMBER_RESOLUTION))


def question_ttl() -> timedelta:
    return timedelta(minutes=settings.INCIDENT_EXPIRY_MINUTES)


def acting_user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def check_request(incident: Incident, skill: object, count: object) -> tuple[str, int]:
    """The clean skill and count of a request; InvalidInput or NotNow otherwise."""
    errors = {}
    skill = str(skill or "").strip()
    if skill not in DISPATCH_SKILLS:
        errors["skill"] = _("Choose a skill.")
    try:
        number = int(str(count).strip())
    except (TypeError, ValueError):
        number = 0
        errors["count"] = _("Enter a whole number.")
    if "count" not in errors and not 1 <= number <= MAX_COUNT:
        errors["count"] = _("Enter a number from %(low)s to %(high)s.") % {
            "low": 1, "high": MAX_COUNT}
    if errors:
        raise InvalidInput(errors)
    if incident.state not in OPEN_STATES:
        raise NotNow(_("This incident is %(state)s: nobody can be sent now.")
                     % {"state": State(incident.state).label})
    return skill, number


@transaction.atomic
def do_request_dispatch(incident: Incident, skill: object, count: object,
                        actor: Actor) -> Dispatch:
    """Ask for `count` people with `skill` at the incident, and ask the first round."""
    clean_skill, number = check_request(incident, skill, count)
    dispatch = Dispatch.objects.create(
        incident=incident, skill=clean_skill, count=number,
        rings=rings_for(settings.DISPATCH_RADIUS_M), requested_by=acting_user(actor),
        round_at=timezone.now())
    audit.record(actor, "dispatch.requested", incident, dispatch_id=dispatch.pk,
                 skill=clean_skill, count=number)
    ask_round(dispatch, actor, timed_out=False)
    return dispatch


def going(dispatch: Dispatch) -> int:
    return dispatch.assignments.filter(status__in=GOING).count()


def _candidates(dispatch: Dispatch) -> list[Nearby]:
    """People who could go and were not asked yet, nearest first (only people the outbox
    can reach)."""
    incident = dispatch.incident
    asked = set(dispatch.assignments.values_list("staff_id", flat=True))
    return [n for n in available_responders(dispatch.skill, incident.cell, zone=incident.zone)
            if n.staff.pk not in asked and n.staff.member_id is not None]


def _within(nearby: Nearby, rings: int, widest: bool) -> bool:
    if nearby.distance is None:
        return widest  # nobody knows where they live: asked only at the widest radius
    return nearby.distance <= rings


def ask_round(dispatch: Dispatch, actor: Actor, *, timed_out: bool) -> int:
    """Ask the nearest people not asked yet within the radius, widening (doubling) the
    radius until there is someone or it is the widest. Nobody new even at the widest: the
    dispatch has nobody left once no one asked is still to answer (or the round ran out of
    time), and the dispatcher is told. Returns how many were asked."""
    widest_rings = rings_for(settings.DISPATCH_MAX_RADIUS_M)
    pool = _candidates(dispatch)
    needed = max(1, dispatch.count - going(dispatch))
    incident = dispatch.incident
    while True:
        widest = dispatch.rings >= widest_rings
        batch = [n for n in pool if _within(n, dispatch.rings, widest)][:needed * ASK_PER_PLACE]
        if batch or widest:
            break
        dispatch.rings = min(widest_rings, dispatch.rings * 2)
        audit.record(actor, "dispatch.widened", incident, dispatch_id=dispatch.pk,
                     rings=dispatch.rings)
    dispatch.round_at = timezone.now()
    waiting = dispatch.assignments.filter(status=AssignmentStatus.ASKED).exists()
    if not batch and (timed_out or not waiting):
        _nobody_left(dispatch, actor)
        return 0
    dispatch.save(update_fields=["rings", "round_at"])
    if batch:
        _ask(dispatch, batch)
        audit.record(actor, "dispatch.asked", incident, dispatch_id=dispatch.pk,
                     asked=[n.staff.user.username for n in batch])
    return len(batch)


def _ask(dispatch: Dispatch, people: Iterable[Nearby]) -> None:
    incident = dispatch.incident
    bodies = messages.request_bodies(incident, dispatch.pk, dispatch.skill)
    for nearby in people:
        member = nearby.staff.member
        assert member is not None
        assignment = Assignment.objects.create(dispatch=dispatch, staff=nearby.staff,
                                               distance=nearby.distance)
        outbox.send_to_member(member, Kind.DISPATCH, bodies, is_drill=incident.is_drill)
        # "Reply YES if you can go": the answer comes back to sms.dispatch_answers.
        questions.ask_member(member, messages.DISPATCH_QUESTION, assignment.pk,
                             ttl=question_ttl())


def _nobody_left(dispatch: Dispatch, actor: Actor) -> None:
    dispatch.status = Dispatch.Status.EXHAUSTED
    dispatch.save(update_fields=["rings", "round_at", "status"])
    incident = dispatch.incident
    audit.record(actor, "dispatch.nobody_left", incident, dispatch_id=dispatch.pk)
    requester = (Staff.objects.filter(user_id=dispatch.requested_by_id, member__isnull=False)
                 .select_related("member").first()
                 if dispatch.requested_by_id is not None else None)
    if requester is not None and requester.member is not None:
        outbox.send_to_member(requester.member, Kind.DISPATCH,
                              messages.nobody_left_bodies(incident, dispatch.pk,
                                                          dispatch.skill),
                              is_drill=incident.is_drill)


def _locked(assignment: Assignment) -> tuple[Dispatch, Assignment]:
    """The dispatch and the assignment, locked in that order (answers arriving at the same
    moment are counted one after the other)."""
    dispatch = (Dispatch.objects.select_for_update(of=("self",))
                .select_related("incident__zone").get(pk=assignment.dispatch_id))
    fresh = (Assignment.objects.select_for_update(of=("self",))
             .select_related("staff__user", "staff__member").get(pk=assignment.pk))
    return dispatch, fresh


def _still_needed(dispatch: Dispatch) -> None:
    if dispatch.status == Dispatch.Status.CLOSED or dispatch.incident.state not in OPEN_STATES:
        raise NotNow(_("This request is over: you are not needed. Thank you."))


@transaction.atomic
def do_accept(assignment: Assignment, channel: str) -> Assignment:
    """YES. Assigned while fewer than `count` are going, else told it is covered (the
    assignment is then `covered`). The last place filled: everyone still asked is covered."""
    dispatch, assignment = _locked(assignment)
    _still_needed(dispatch)
    if assignment.status in GOING:
        raise NotNow(_("You already said you are going."))
    if assignment.status == AssignmentStatus.COVERED:
        raise NotNow(_("Enough people are going already: you are not needed. Thank you."))
    now = timezone.now()
    incident = dispatch.incident
    user = assignment.staff.user
    questions.close(messages.DISPATCH_QUESTION, assignment.pk)
    if going(dispatch) >= dispatch.count:
        assignment.status = AssignmentStatus.COVERED
        assignment.answered_at = now
        assignment.save(update_fields=["status", "answered_at"])
        return assignment
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.answered_at = now
    assignment.save(update_fields=["status", "answered_at"])
    audit.record(user, "dispatch.accepted", incident, dispatch_id=dispatch.pk,
                 channel=channel)
    if going(dispatch) >= dispatch.count:
        dispatch.status = Dispatch.Status.FILLED
        dispatch.save(update_fields=["status"])
        covered = _cover_the_rest(dispatch, messages.covered_bodies(incident, dispatch.pk))
        audit.record(user, "dispatch.filled", incident, dispatch_id=dispatch.pk,
                     covered=covered)
    return assignment


def _cover_the_rest(dispatch: Dispatch, bodies: messages.Bodies) -> int:
    """Everyone still asked is told they are not needed; their question is closed."""
    waiting = list(dispatch.assignments.filter(status=AssignmentStatus.ASKED)
                   .select_related("staff__member"))
    for other in waiting:
        questions.close(messages.DISPATCH_QUESTION, other.pk)
        if other.staff.member is not None:
            outbox.send_to_member(other.staff.member, Kind.DISPATCH, bodies,
                                  is_drill=dispatch.incident.is_drill)
    Assignment.objects.filter(pk__in=[a.pk for a in waiting]).update(
        status=AssignmentStatus.COVERED, answered_at=timezone.now())
    return len(waiting)


@transaction.atomic
def do_decline(assignment: Assignment, channel: str) -> Assignment:
    """NO. When nobody asked is left to answer and too few are going, the next round is
    asked at once."""
    dispatch, assignment = _locked(assignment)
    _still_needed(dispatch)
    if assignment.status != AssignmentStatus.ASKED:
        raise NotNow(_("You already answered this request."))
    assignment.status = AssignmentStatus.DECLINED
    assignment.answered_at = timezone.now()
    assignment.save(update_fields=["status", "answered_at"])
    questions.close(messages.DISPATCH_QUESTION, assignment.pk)
    user = assignment.staff.user
    audit.record(user, "dispatch.declined", dispatch.incident, dispatch_id=dispatch.pk,
                 channel=channel)
    if (dispatch.status == Dispatch.Status.OPEN and going(dispatch) < dispatch.count
            and not dispatch.assignments.filter(status=AssignmentStatus.ASKED).exists()):
        ask_round(dispatch, None, timed_out=False)
    return assignment


@transaction.atomic
def do_check_in(assignment: Assignment, channel: str) -> Assignment:
    dispatch, assignment = _locked(assignment)
    if assignment.status != AssignmentStatus.ACCEPTED:
        raise NotNow(_("Only someone who said they are going, and has not checked in yet, "
                       "can check in."))
    assignment.status = AssignmentStatus.CHECKED_IN
    assignment.checked_in_at = timezone.now()
    assignment.save(update_fields=["status", "checked_in_at"])
    audit.record(assignment.staff.user, "dispatch.checked_in", dispatch.incident,
                 dispatch_id=dispatch.pk, channel=channel)
    return assignment


@transaction.atomic
def do_check_out(assignment: Assignment, channel: str) -> Assignment:
    dispatch, assignment = _locked(assignment)
    if assignment.status != AssignmentStatus.CHECKED_IN:
        raise NotNow(_("Only someone who checked in can check out."))
    assignment.status = AssignmentStatus.CHECKED_OUT
    assignment.checked_out_at = timezone.now()
    assignment.save(update_fields=["status", "checked_out_at"])
    audit.record(assignment.staff.user, "dispatch.checked_out", dispatch.incident,
                 dispatch_id=dispatch.pk, channel=channel)
    return assignment


def do_widen_due(now: datetime | None = None) -> int:
    """The periodic job: every open dispatch whose round has waited
    DISPATCH_WIDEN_AFTER_MINUTES with too few going asks its next round (wider). Returns how
    many dispatches moved on."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.DISPATCH_WIDEN_AFTER_MINUTES)
    moved = 0
    due = Dispatch.objects.filter(status=Dispatch.Status.OPEN, round_at__lte=cutoff)
    for pk in due.filter(incident__state__in=OPEN_STATES).values_list("pk", flat=True):
        with transaction.atomic():
            dispatch = (due.select_for_update(of=("self",)).select_related("incident__zone")
                        .filter(pk=pk).first())
            if dispatch is None or going(dispatch) >= dispatch.count:
                continue
            ask_round(dispatch, None, timed_out=True)
            moved += 1
    return moved


def close_for_incident(incident: Incident, actor: Actor) -> int:
    """The incident is over (registered with incidents.actions.on_close): its dispatches
    close, and everyone asked or going is stood down."""
    closed = 0
    for dispatch in Dispatch.objects.select_for_update().filter(incident=incident,
                                                                 status__in=LIVE):
        dispatch.incident = incident
        bodies = messages.stand_down_bodies(incident, dispatch.pk)
        _cover_the_rest(dispatch, bodies)
        for going_one in (dispatch.assignments.filter(
                status__in=(AssignmentStatus.ACCEPTED, AssignmentStatus.CHECKED_IN))
                .select_related("staff__member")):
            if going_one.staff.member is not None:
                outbox.send_to_member(going_one.staff.member, Kind.DISPATCH, bodies,
                                      is_drill=incident.is_drill)
        dispatch.status = Dispatch.Status.CLOSED
        dispatch.closed_at = timezone.now()
        dispatch.save(update_fields=["status", "closed_at"])
        audit.record(actor, "dispatch.closed", incident, dispatch_id=dispatch.pk)
        closed += 1
    return closed
