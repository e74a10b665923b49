"""Witnesses: members who opted in ("I can come and witness peacefully", Member.can_witness)
asked to come to a confirmed incident, within a radius of the place and up to a cap,
nearest first. They answer YES or NO by SMS; those coming are counted on the incident, and
all of them hear when it is over (close_for_incident, through incidents' on_close)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.channels.sms import questions
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Kind
from rapidresponse.dispatch import messages
from rapidresponse.dispatch.actions import Actor, NotNow, acting_user, question_ttl
from rapidresponse.dispatch.models import WitnessAnswer, WitnessRequest, WitnessStatus
from rapidresponse.incidents.models import Incident, State
from rapidresponse.lib import geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.models import Channel, ContactPoint, Member, WatchArea

MIN_RADIUS_M = 100


def _bounded(raw: object, name: str, low: int, high: int, errors: dict[str, str]) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[name] = _("Enter a whole number.")
        return 0
    if not low <= value <= high:
        errors[name] = _("Enter a number from %(low)s to %(high)s.") % {"low": low,
                                                                       "high": high}
    return value


def check_witness_request(incident: Incident, radius_m: object, cap: object) -> tuple[int, int]:
    errors: dict[str, str] = {}
    radius = _bounded(radius_m, "radius_m", MIN_RADIUS_M, settings.WITNESS_MAX_RADIUS_M, errors)
    number = _bounded(cap, "cap", 1, settings.WITNESS_MAX_CAP, errors)
    if errors:
        raise InvalidInput(errors)
    if incident.state != State.CONFIRMED:
        raise NotNow(_("Witnesses are asked only for a confirmed incident; this one is "
                       "%(state)s.") % {"state": State(incident.state).label})
    return radius, number


def witnesses_near(incident: Incident, radius_m: int, cap: int) -> list[Member]:
    """Active members who opted in, with a usable SMS contact (they answer by SMS), one of
    whose places lies within `radius_m` of the incident: nearest first, at most `cap`, and
    none asked before about this incident."""
    res = settings.H3_MEMBER_RESOLUTION
    origin = geo.parent(incident.cell, res)
    cells = geo.disk(origin, geo.rings_for_radius(radius_m, res))
    asked = WitnessAnswer.objects.filter(request__incident=incident).values("member_id")
    texting = ContactPoint.objects.usable().filter(kind=Channel.SMS).values("member_id")
    areas = (WatchArea.objects.filter(cell__in=cells, member__can_witness=True,
                                      member__status=Member.Status.ACTIVE)
             .filter(Q(member_id__in=texting)).exclude(member_id__in=asked)
             .values_list("member_id", "cell"))
    nearest: dict[int, int] = {}
    for member_id, cell in areas:
        distance = geo.grid_distance(origin, cell)
        d = distance if distance is not None else 10**6
        nearest[member_id] = min(d, nearest.get(member_id, d))
    chosen = sorted(nearest, key=lambda pk: (nearest[pk], pk))[:cap]
    found = Member.objects.in_bulk(chosen)
    return [found[pk] for pk in chosen]


@transaction.atomic
def do_request_witnesses(incident: Incident, radius_m: object, cap: object,
                         actor: Actor) -> tuple[WitnessRequest, int]:
    """Ask the witnesses near a confirmed incident. Returns the request and how many were
    asked."""
    radius, number = check_witness_request(incident, radius_m, cap)
    request = WitnessRequest.objects.create(incident=incident, radius_m=radius, cap=number,
                                            requested_by=acting_user(actor))
    people = witnesses_near(incident, radius, number)
    bodies = messages.witness_bodies(incident)
    for member in people:
        answer = WitnessAnswer.objects.create(request=request, member=member)
        outbox.send_to_member(member, Kind.DISPATCH, bodies, channels=[Channel.SMS],
                              is_drill=incident.is_drill)
        questions.ask_member(member, messages.WITNESS_QUESTION, answer.pk, ttl=question_ttl())
    audit.record(actor, "witness.requested", incident, witness_request_id=request.pk,
                 radius_m=radius, cap=number, asked=len(people))
    return request, len(people)


@transaction.atomic
def do_witness_answer(answer: WitnessAnswer, coming: bool) -> WitnessAnswer:
    answer = (WitnessAnswer.objects.select_for_update(of=("self",))
              .select_related("request__incident").get(pk=answer.pk))
    incident = answer.request.incident
    if incident.state != State.CONFIRMED or answer.status == WitnessStatus.STOOD_DOWN:
        raise NotNow(_("It is over: thank you, you are not needed."))
    answer.status = WitnessStatus.COMING if coming else WitnessStatus.DECLINED
    answer.answered_at = timezone.now()
    answer.save(update_fields=["status", "answered_at"])
    audit.record(None, "witness.coming" if coming else "witness.declined", incident,
                 witness_request_id=answer.request_id)
    return answer


def coming_count(incident: Incident) -> int:
    return WitnessAnswer.objects.filter(request__incident=incident,
                                        status=WitnessStatus.COMING).count()


def stand_down_witnesses(incident: Incident, actor: Actor) -> int:
    """The incident is over: everyone who said they are coming hears it; nobody else is
    waited for. Returns how many were told."""
    requests = WitnessRequest.objects.filter(incident=incident, stood_down_at__isnull=True)
    if not requests.exists():
        return 0
    answers = WitnessAnswer.objects.filter(request__in=requests)
    for pk in answers.filter(status=WitnessStatus.ASKED).values_list("pk", flat=True):
        questions.close(messages.WITNESS_QUESTION, pk)
    coming = list(answers.filter(status=WitnessStatus.COMING).select_related("member"))
    bodies = messages.witness_stand_down_bodies(incident)
    for answer in coming:
        outbox.send_to_member(answer.member, Kind.DISPATCH, bodies, channels=[Channel.SMS],
                              is_drill=incident.is_drill)
    WitnessAnswer.objects.filter(pk__in=[a.pk for a in coming]).update(
        status=WitnessStatus.STOOD_DOWN)
    requests.update(stood_down_at=timezone.now())
    audit.record(actor, "witness.stood_down", incident, told=len(coming))
    return len(coming)
