from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from rapidresponse.accounts.access import access_console
from rapidresponse.delivery.models import ConsoleMessage
from rapidresponse.members.models import Member


@login_required
def message_log(request: HttpRequest) -> HttpResponse:
    """Everything the console backends recorded, newest first."""
    access_console(request.user)
    page = Paginator(ConsoleMessage.objects.select_related("member"), 50).get_page(
        request.GET.get("page"))
    return render(request, "delivery/message_log.html", {"page": page})


@login_required
def phone(request: HttpRequest, member_id: int) -> HttpResponse:
    """The demo 'phone': what one member received through the console backends."""
    access_console(request.user)
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise Http404
    received = list(member.console_messages.order_by("created_at", "id"))
    return render(request, "delivery/phone.html", {"member": member, "received": received})
