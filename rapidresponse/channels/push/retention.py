"""Retention rules of web push (enforced by rapidresponse.jobs). A member's browsers are the
value of their push contact point, so they go with it (members' rules)."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy as _

from rapidresponse.channels.push.models import PushEndpoint
from rapidresponse.jobs.registry import personal_data, retention
from rapidresponse.jobs.retention import deleted


@retention("push_endpoints", model="push.PushEndpoint",
           rule=_("the blind index of each browser's endpoint: deleted with its contact point, "
                "when the member leaves, and wherever the contact point's value was erased"))
def push_endpoints(now: datetime) -> int:
    return deleted(PushEndpoint.objects.filter(contact__value_encrypted=""))


personal_data(
    "push.PushEndpoint", fields=("contact", "endpoint_index"), category="members",
    purpose=_("finding a member's browser without decrypting every subscription"),
    protection=_("a keyed hash of the push endpoint"), retention=("push_endpoints",),
    dated_by="")
