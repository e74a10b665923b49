from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapidresponse.accounts import audit
from rapidresponse.accounts.access import access_console, access_member
from rapidresponse.delivery import outbox
from rapidresponse.delivery.access import (
    access_delivery,
    console_messages_in_scope,
    deliveries_in_scope,
)
from rapidresponse.delivery.models import Status
from rapidresponse.members.models import Channel


@login_required
def message_log(request: HttpRequest) -> HttpResponse:
    """Everything the console backends recorded for members of the staff member's zones,
    newest first."""
    access_console(request.user)
    recorded = console_messages_in_scope(request.user).select_related("member")
    query = request.GET.get("q", "").strip()[:100]
    channel = request.GET.get("channel", "")
    if query:  # words of the message, or the end of a masked number ("0101")
        recorded = recorded.filter(Q(text__icontains=query) | Q(subject__icontains=query)
                                   | Q(to_masked__icontains=query))
    if channel in Channel.values:
        recorded = recorded.filter(channel=channel)
    page = Paginator(recorded, 50).get_page(request.GET.get("page"))
    return render(request, "delivery/message_log.html", {
        "page": page, "query": query, "channel": channel, "channels": Channel.choices,
        "keep": urlencode({k: v for k, v in (("q", query), ("channel", channel)) if v})})


@login_required
def phone(request: HttpRequest, member_id: int) -> HttpResponse:
    """The demo 'phone': what one member received through the console backends."""
    member = access_member(request.user, member_id)
    received = list(member.console_messages.order_by("created_at", "id"))
    return render(request, "delivery/phone.html", {"member": member, "received": received})


@login_required
def dead_letters(request: HttpRequest) -> HttpResponse:
    """Deliveries given up after the last attempt, or whose fate the provider cannot tell:
    staff can look at why and send one again."""
    access_console(request.user)
    waiting = deliveries_in_scope(request.user, outbox.dead_letters())
    page = Paginator(waiting, 50).get_page(request.GET.get("page"))
    return render(request, "delivery/dead_letters.html", {"page": page})


@login_required
@require_POST
def retry_delivery(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = access_delivery(request.user, delivery_id)
    before = delivery.status
    if outbox.retry(delivery.pk):
        audit.record(request.user, "delivery_retry", delivery, from_state=before,
                     to_state=Status.QUEUED)
        messages.success(request, _("The message is queued to be sent again."))
    else:
        messages.error(request, _("This message is no longer waiting for a decision: "
                                  "nothing was changed."))
    return redirect("dead_letters")
