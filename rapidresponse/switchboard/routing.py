"""Offering new work to the dispatchers on shift (registered with incidents.events).

A new incident (its first report) is offered to the dispatchers on shift for its zone (the
primaries); an SMS conversation the hotline could not place (no zone: every dispatcher's) to
the network's dispatchers on shift. Each person offered gets an SMS through the outbox, in
their language, with no detail of the report: only its number, the neighbourhood and a link.
A drill's offers are drills too: the outbox sends them to the console backend only.

Nobody takes it within ROUTING_ESCALATE_MINUTES → the backups; as long again → the
coordinators who work the zone (none: the network-wide coordinators). Each stage once; a
stage with nobody in it passes straight to the next. A report a dispatcher typed in is
theirs: taken at once, offered to nobody. The first to take it (from the incident
page or the console) claims it for every stage; the others see who did. Escalation stops
once it is taken, or when the work no longer waits (the incident moved on from "reported",
the conversation was filed or closed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.access import CONSOLE_ROLES
from rapidresponse.accounts.models import Role, Staff
from rapidresponse.channels.sms.models import SmsThread, ThreadState
from rapidresponse.delivery import outbox
from rapidresponse.incidents.events import on_new_incident, on_thread_waiting
from rapidresponse.incidents.models import Incident, State
from rapidresponse.jobs.registry import periodic
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.models import Channel, language_codes
from rapidresponse.responders.models import Skill
from rapidresponse.responders.queries import on_call_now
from rapidresponse.switchboard.models import Offer, OfferKind, OfferStage
from rapidresponse.switchboard.ringing import dispatchers_on_shift
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import with_ancestors

Actor = User | AnonymousUser | None

STAGES = [OfferStage.PRIMARY, OfferStage.BACKUP, OfferStage.COORDINATOR]


def people_for(stage: str, zone: Zone | None, at: datetime) -> list[Staff]:
    """Whom a stage offers the work to: console staff only (a responder login with the
    dispatcher skill cannot open the console)."""
    people: list[Staff]
    if stage == OfferStage.COORDINATOR:
        coordinators = Staff.objects.filter(role=Role.COORDINATOR, user__is_active=True)
        local = (list(coordinators.filter(zones__in=with_ancestors(zone.pk)).distinct())
                 if zone is not None else [])
        people = local or list(coordinators.filter(network_wide=True))
    elif zone is not None:
        wanted = stage == OfferStage.PRIMARY
        people = [e.staff for e in on_call_now(zone, Skill.DISPATCHER, at)
                  if e.is_primary == wanted]
    else:
        found = dispatchers_on_shift(at)
        people = found.primaries if stage == OfferStage.PRIMARY else found.backups
    return sorted((p for p in people if p.role in CONSOLE_ROLES), key=lambda s: s.pk)


def _link(kind: str, object_id: int) -> str:
    name = "incident" if kind == OfferKind.INCIDENT else "sms_thread"
    return settings.PUBLIC_URL.rstrip("/") + reverse(name, args=[object_id])


def offer_bodies(kind: str, object_id: int, zone: Zone | None, is_drill: bool
                 ) -> dict[str, dict[str, str]]:
    """The SMS to a dispatcher: what, where (the neighbourhood only) and a link; never the
    report's details."""
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            f = {"id": object_id, "url": _link(kind, object_id),
                 "drill": _("DRILL: ") if is_drill else "",
                 "zone": zone.name if zone is not None else _("an unknown place")}
            if kind == OfferKind.INCIDENT:
                text = _("%(drill)sNew report #%(id)s in %(zone)s: take it at %(url)s") % f
            else:
                text = _("%(drill)sA text to the hotline is waiting for a dispatcher: take it "
                         "at %(url)s") % f
        bodies[lang] = {"subject": text, "text": text}
    return bodies


def is_claimed(kind: str, object_id: int) -> bool:
    return Offer.objects.filter(kind=kind, object_id=object_id,
                                claimed_at__isnull=False).exists()


@transaction.atomic
def do_offer(kind: str, object_id: int, zone: Zone | None, *, is_drill: bool,
             stage: str = OfferStage.PRIMARY, now: datetime | None = None) -> Offer | None:
    """Offer the work from `stage` on: the first stage not done yet with anybody in it.
    None when every stage is done."""
    moment = now or timezone.now()
    if is_claimed(kind, object_id):
        return None
    for current in STAGES[STAGES.index(OfferStage(stage)):]:
        offer, created = Offer.objects.get_or_create(
            kind=kind, object_id=object_id, stage=current,
            defaults={"zone": zone, "is_drill": is_drill, "offered_at": moment})
        if not created:
            continue
        people = people_for(current, zone, moment)
        offer.offered_to.set(people)
        bodies = offer_bodies(kind, object_id, zone, is_drill)
        for person in people:
            if person.member is not None:
                outbox.send_to_member(person.member, "dispatch", bodies,
                                      channels=[Channel.SMS], is_drill=is_drill)
        if people:
            return offer
    return None


@on_new_incident("switchboard")
def offer_incident(incident: Incident) -> None:
    """A report a dispatcher typed in (a phone call, a voicemail) is theirs already: taken
    by them, offered to nobody."""
    typist = (incident.reports.order_by("id").values_list("entered_by", flat=True).first())
    if typist is not None:
        now = timezone.now()
        Offer.objects.get_or_create(
            kind=OfferKind.INCIDENT, object_id=incident.pk, stage=OfferStage.PRIMARY,
            defaults={"zone": incident.zone, "is_drill": incident.is_drill, "offered_at": now,
                      "claimed_by_id": typist, "claimed_at": now})
        return
    do_offer(OfferKind.INCIDENT, incident.pk, incident.zone, is_drill=incident.is_drill)


@on_thread_waiting("switchboard")
def offer_thread(thread: SmsThread) -> None:
    do_offer(OfferKind.THREAD, thread.pk, thread.draft_zone, is_drill=False)


def still_waiting(kind: str, object_id: int) -> bool:
    if kind == OfferKind.INCIDENT:
        return Incident.objects.filter(pk=object_id, state=State.REPORTED).exists()
    return SmsThread.objects.filter(pk=object_id, state=ThreadState.UNPLACED).exists()


def do_escalate(now: datetime | None = None) -> int:
    """Offer to the next stage what nobody took in time; how many pieces of work moved on."""
    moment = now or timezone.now()
    due = moment - timedelta(minutes=settings.ROUTING_ESCALATE_MINUTES)
    horizon = moment - timedelta(days=1)
    latest: dict[tuple[str, int], Offer] = {}
    claimed: set[tuple[str, int]] = set()
    for offer in (Offer.objects.filter(offered_at__gte=horizon).select_related("zone")
                  .order_by("offered_at", "id")):
        key = (offer.kind, offer.object_id)
        if offer.claimed_at is not None:
            claimed.add(key)
        if key not in latest or STAGES.index(OfferStage(offer.stage)) > STAGES.index(
                OfferStage(latest[key].stage)):
            latest[key] = offer
    moved = 0
    for key, offer in latest.items():
        if (key in claimed or offer.stage == OfferStage.COORDINATOR or offer.offered_at > due
                or not still_waiting(*key)):
            continue
        following = STAGES[STAGES.index(OfferStage(offer.stage)) + 1]
        if do_offer(offer.kind, offer.object_id, offer.zone, is_drill=offer.is_drill,
                    stage=following, now=moment) is not None:
            moved += 1
    return moved


@periodic("routing_escalation", every_s=30)
def escalate() -> None:
    do_escalate()


@transaction.atomic
def do_claim(offer: Offer, actor: Actor) -> None:
    """Take the work: the first one wins."""
    if not isinstance(actor, User):
        raise InvalidInput({"offer": _("Sign in to take it.")})
    taken = Offer.objects.filter(kind=offer.kind, object_id=offer.object_id,
                                 claimed_at__isnull=True).update(
        claimed_by=actor, claimed_at=timezone.now())
    if not taken:
        holder = (Offer.objects.filter(kind=offer.kind, object_id=offer.object_id)
                  .exclude(claimed_by=None).select_related("claimed_by").first())
        who = holder.claimed_by.get_username() if holder and holder.claimed_by else "?"
        raise InvalidInput({"offer": _("Already taken by %(name)s.") % {"name": who}})
    audit.record(actor, "offer.claimed", offer, kind=offer.kind, object_id=offer.object_id)
