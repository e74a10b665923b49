"""Dispatch's periodic job (widening requests that got too few YES) and its retention rules
and privacy manifest entries (run by rapidresponse.jobs): who was asked to go where, who went
and when they checked in and out is personal data, kept RETENTION_DISPATCH_DAYS."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapidresponse.dispatch.actions import do_widen_due
from rapidresponse.dispatch.models import Dispatch, WitnessRequest
from rapidresponse.jobs.registry import periodic, personal_data, retention
from rapidresponse.jobs.retention import deleted

WIDEN_EVERY_S = 60


@periodic("dispatch.widen", every_s=WIDEN_EVERY_S)
def widen() -> None:
    do_widen_due()


@retention("past_dispatches", model="dispatch.Dispatch",
           rule=_("dispatch requests with who was asked, who went and their check-in and "
                  "check-out times, and witness requests with who answered, deleted "
                  "RETENTION_DISPATCH_DAYS after the request"))
def past_dispatches(now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=settings.RETENTION_DISPATCH_DAYS)
    return {"past_dispatches": deleted(Dispatch.objects.filter(created_at__lt=cutoff)),
            "past_witness_requests": deleted(WitnessRequest.objects.filter(
                created_at__lt=cutoff))}


personal_data(
    "dispatch.Dispatch", fields=("requested_by",), category="staff",
    purpose=_("who asked for responders, to tell them when nobody is left"),
    protection=_("plain"), retention=("past_dispatches",))
personal_data(
    "dispatch.Assignment", fields=("staff", "status", "distance", "checked_in_at",
                                   "checked_out_at"),
    category="staff",
    purpose=_("who was asked to go to an incident, who went, and when they arrived and left"),
    protection=_("plain; the distance is a count of H3 rings, never a place"),
    retention=("past_dispatches",), dated_by="asked_at")
personal_data(
    "dispatch.WitnessRequest", fields=("requested_by",), category="staff",
    purpose=_("who asked members to come and witness"), protection=_("plain"),
    retention=("past_dispatches",))
personal_data(
    "dispatch.WitnessAnswer", fields=("member", "status"), category="members",
    purpose=_("which members were asked to witness and who said they are coming, to tell "
              "them when it is over"),
    protection=_("plain; no place is kept"), retention=("past_dispatches",),
    dated_by="asked_at")
