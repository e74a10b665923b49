"""Which deliveries and recorded messages a staff member may see: those to members with a
place in their zones (accounts.access). Anything else answers 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from rapidresponse.accounts.access import AnyUser, access_console, scope_of
from rapidresponse.delivery.models import ConsoleMessage, Delivery


def deliveries_in_scope(user: AnyUser | None,
                        deliveries: QuerySet[Delivery] | None = None) -> QuerySet[Delivery]:
    qs = deliveries if deliveries is not None else Delivery.objects.all()
    return qs.filter(scope_of(user).member_q("member"))


def console_messages_in_scope(user: AnyUser | None,
                              messages: QuerySet[ConsoleMessage] | None = None
                              ) -> QuerySet[ConsoleMessage]:
    """What the console backends recorded for members of the staff member's zones (a
    message to no member, such as one to a partner's address: network-wide staff only)."""
    qs = messages if messages is not None else ConsoleMessage.objects.all()
    return qs.filter(scope_of(user).member_q("member"))


def access_delivery(user: AnyUser | None, delivery_id: int) -> Delivery:
    access_console(user)
    delivery = deliveries_in_scope(user).filter(pk=delivery_id).first()
    if delivery is None:
        raise Http404
    return delivery
