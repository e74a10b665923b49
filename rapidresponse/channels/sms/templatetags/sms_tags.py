"""The SMS channel's parts of the console pages: the disabled notice, the inbox of
conversations, a list of threads with a reply form each, and what Twilio said of our SMS."""

from __future__ import annotations

from typing import Any

from django import template

from rapidresponse.channels.sms import receipts
from rapidresponse.channels.sms.access import threads_in_scope
from rapidresponse.channels.sms.models import SmsThread
from rapidresponse.channels.sms.threads import MAX_REPLY, open_threads
from rapidresponse.channels.sms.twilio import TwilioSmsBackend, configured
from rapidresponse.delivery.transport import transport_for

register = template.Library()


def sms_disabled() -> bool:
    """SMS is meant to go through Twilio, but Twilio is not configured."""
    return isinstance(transport_for("sms"), TwilioSmsBackend) and not configured()


@register.inclusion_tag("sms/_notice.html")
def sms_notice() -> dict[str, Any]:
    return {"disabled": sms_disabled()}


@register.inclusion_tag("sms/_threads.html", takes_context=True)
def sms_threads(context: Any, threads: list[SmsThread], next_url: str) -> dict[str, Any]:
    """These conversations in full, each with a reply form that comes back to `next_url`."""
    return {"threads": [{"thread": t, "messages": list(t.messages.select_related("author"))}
                        for t in threads],
            "csrf_token": context.get("csrf_token"), "next": next_url, "max_reply": MAX_REPLY}


@register.inclusion_tag("sms/_inbox.html", takes_context=True)
def sms_inbox(context: Any) -> dict[str, Any]:
    """The conversations of the reader's zones, and those nobody has placed yet."""
    return {"threads": list(open_threads(threads_in_scope(context["request"].user)))}


@register.inclusion_tag("sms/_receipts.html")
def sms_receipts(alerts: list[Any]) -> dict[str, Any]:
    """What Twilio said became of the SMS of these alerts (status callbacks)."""
    counts = receipts.receipts_by_status([a.message_id for a in alerts]) if alerts else {}
    return {"receipts": sorted(counts.items())}
