"""Which SMS conversations a dispatcher may see (accounts.access for zones).

A conversation is where its report is: the zone of the incident it was filed into, or the
neighbourhood the sender named while the report is being put together. A conversation whose
place nobody knows yet is every dispatcher's, so that someone can place it; one whose place
lies outside every zone is network-wide staff's. Someone with no zone sees none. Anything
else answers 404."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from rapidresponse.accounts.access import AnyUser, access_console, scope_of
from rapidresponse.channels.sms.models import SmsThread

#: Nobody knows where: no report filed from it and no neighbourhood named.
PLACE_UNKNOWN = Q(report__isnull=True, draft_zone__isnull=True)


def threads_in_scope(user: AnyUser | None,
                     threads: QuerySet[SmsThread] | None = None) -> QuerySet[SmsThread]:
    qs = threads if threads is not None else SmsThread.objects.all()
    scope = scope_of(user)
    if scope.nowhere:
        return qs.none()
    # The report's incident belongs to an app above this one: named, never imported.
    return qs.filter(scope.zone_q("draft_zone") | scope.zone_q("report__incident__zone")
                     | PLACE_UNKNOWN)


def access_thread(user: AnyUser | None, thread_id: int) -> SmsThread:
    access_console(user)
    thread = threads_in_scope(user).filter(pk=thread_id).first()
    if thread is None:
        raise Http404
    return thread
