"""The switchboard's panels (registered with incidents.panels): voicemails waiting and work
waiting to be taken beside the console's queue; who was offered an incident and who took it
on the incident's page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rapidresponse.accounts.access import CONSOLE_ROLES, has_role
from rapidresponse.channels.sms.access import threads_in_scope
from rapidresponse.incidents.access import incidents_in_scope
from rapidresponse.incidents.models import Incident
from rapidresponse.incidents.panels import console_panel, incident_panel
from rapidresponse.switchboard.access import may_hear_voicemails
from rapidresponse.switchboard.models import (
    Offer,
    OfferKind,
    OfferStage,
    Voicemail,
    VoicemailStatus,
)

SHOWN = 20


@console_panel("voicemails", "switchboard/_voicemails_panel.html", order=5)
def voicemails_waiting(request: HttpRequest) -> dict[str, Any] | None:
    if not may_hear_voicemails(request.user):
        return None
    waiting = Voicemail.objects.filter(status=VoicemailStatus.WAITING).order_by("created_at")
    return {"voicemails": list(waiting[:SHOWN])}


@console_panel("offers", "switchboard/_offers_panel.html", order=6)
def offers_waiting(request: HttpRequest) -> dict[str, Any] | None:
    """Work offered and not yet taken, in the viewer's zones: one line per piece of work."""
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    open_offers = Offer.objects.filter(claimed_at__isnull=True, stage=OfferStage.PRIMARY)
    incidents = set(incidents_in_scope(request.user).filter(
        pk__in=open_offers.filter(kind=OfferKind.INCIDENT).values("object_id"))
        .values_list("pk", flat=True))
    threads = set(threads_in_scope(request.user).filter(
        pk__in=open_offers.filter(kind=OfferKind.THREAD).values("object_id"))
        .values_list("pk", flat=True))
    shown = [o for o in open_offers.select_related("zone").order_by("offered_at")
             if o.object_id in (incidents if o.kind == OfferKind.INCIDENT else threads)]
    return {"offers": shown[:SHOWN]}


@incident_panel("offer", "switchboard/_offer_panel.html", order=5)
def incident_offer(request: HttpRequest, incident: Incident) -> dict[str, Any] | None:
    if not has_role(request.user, CONSOLE_ROLES):
        return None
    offers = list(Offer.objects.filter(kind=OfferKind.INCIDENT, object_id=incident.pk)
                  .select_related("claimed_by").prefetch_related("offered_to__user"))
    if not offers:
        return None
    claimed = next((o for o in offers if o.claimed_by_id is not None), None)
    return {"offers": offers, "claimed": claimed, "first": offers[0]}
