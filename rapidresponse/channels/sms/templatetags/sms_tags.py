"""The SMS channel's parts of the console pages: the disabled notice and the conversations."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from rapidresponse.channels.sms import actions
from rapidresponse.channels.sms.twilio import TwilioSmsBackend, configured
from rapidresponse.delivery.transport import transport_for
from rapidresponse.incidents.models import Incident

register = template.Library()


def sms_disabled() -> bool:
    """SMS is meant to go through Twilio, but Twilio is not configured."""
    return isinstance(transport_for("sms"), TwilioSmsBackend) and not configured()


@register.inclusion_tag("sms/_notice.html")
def sms_notice() -> dict[str, Any]:
    return {"disabled": sms_disabled()}


@register.inclusion_tag("sms/_threads.html", takes_context=True)
def sms_threads(context: Any, incident: Incident) -> dict[str, Any]:
    threads = [{"thread": t, "messages": list(t.messages.select_related("author"))}
               for t in actions.threads_for_incident(incident.pk)]
    return {"threads": threads, "csrf_token": context.get("csrf_token"),
            "next": reverse("incident", args=[incident.pk]), "max_reply": actions.MAX_REPLY}


@register.inclusion_tag("sms/_inbox.html")
def sms_inbox() -> dict[str, Any]:
    return {"threads": list(actions.open_threads())}


@register.inclusion_tag("sms/_receipts.html")
def sms_receipts(alerts: list[Any]) -> dict[str, Any]:
    """What Twilio said became of the SMS of these alerts (status callbacks)."""
    counts = actions.receipts_by_status([a.message_id for a in alerts]) if alerts else {}
    return {"receipts": sorted(counts.items())}
