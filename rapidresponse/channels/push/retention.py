"""Retention rules of web push (enforced by rapidresponse.jobs). A member's browsers are the
value of their push contact point, so they go with it (members' rules)."""

from __future__ import annotations

from datetime import datetime

from rapidresponse.channels.push.models import PushEndpoint
from rapidresponse.jobs.registry import retention
from rapidresponse.jobs.retention import deleted


@retention("push_endpoints", model="push.PushEndpoint",
           rule="the blind index of each browser's endpoint: deleted with its contact point, "
                "when the member leaves, and wherever the contact point's value was erased")
def push_endpoints(now: datetime) -> int:
    return deleted(PushEndpoint.objects.filter(contact__value_encrypted=""))

