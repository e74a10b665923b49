"""CAP 1.2 documents and the Atom feed of alerts."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from rapidresponse.accounts.access import AnyUser
from rapidresponse.accounts.tokens import bearer_token, user_for_token
from rapidresponse.alerts.access import alerts_in_scope
from rapidresponse.alerts.cap import cap_document, identifier, is_public
from rapidresponse.alerts.models import Alert

CAP_TYPE = "application/cap+xml"
FEED_DAYS = 7


def _reader(request: HttpRequest) -> AnyUser | None:
    """Who asks: the holder of a bearer token, else the signed-in user."""
    token = bearer_token(request)
    if token is not None:
        return user_for_token(token)
    return request.user


def cap(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Public alerts for anyone; the others (drills, a restricted network) for console staff
    of the incident's zone."""
    alert = Alert.objects.select_related("message", "original").filter(pk=alert_id).first()
    if alert is None or not (is_public(alert) or alerts_in_scope(
            _reader(request)).filter(pk=alert.pk).exists()):
        raise Http404
    return HttpResponse(cap_document(alert), content_type=f"{CAP_TYPE}; charset=utf-8")


def feed(request: HttpRequest) -> HttpResponse:
    """Recent alerts as Atom; each entry links to its CAP document. Console staff also see
    the others of their zones (drills, a restricted network's)."""
    since = timezone.now() - timedelta(days=FEED_DAYS)
    alerts = (Alert.objects.filter(created_at__gte=since).select_related("message", "original")
              .order_by("-created_at", "-id"))
    theirs = set(alerts_in_scope(_reader(request), alerts).values_list("pk", flat=True)[:500])
    shown = [a for a in alerts[:500] if a.pk in theirs or is_public(a)]
    atom = Atom1Feed(
        title=_("%(network)s: verified alerts") % {"network": settings.NETWORK_NAME},
        link=settings.PUBLIC_URL + "/",
        description="",
        feed_url=settings.PUBLIC_URL + reverse("alerts_feed"),
        language="en",
        feed_guid=settings.PUBLIC_URL + reverse("alerts_feed"),
    )
    for alert in shown:
        body = alert.message.body("en")
        atom.add_item(
            title=body.get("subject", ""),
            link=settings.PUBLIC_URL + reverse("alert_cap", args=[alert.pk]),
            description=body["text"],
            unique_id=identifier(alert),
            pubdate=alert.created_at,
            updateddate=alert.created_at,
            categories=[alert.kind] + (["exercise"] if alert.is_drill else []),
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    return response
