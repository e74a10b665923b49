"""Which alerts a staff member may see beyond the public ones: those of the incidents of
their zones (accounts.access: an alert goes with its incident). Anything else answers 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from rapidresponse.accounts.access import CONSOLE_ROLES, AnyUser, access_console, has_role, scope_of
from rapidresponse.alerts.models import Alert


def alerts_in_scope(user: AnyUser | None,
                    alerts: QuerySet[Alert] | None = None) -> QuerySet[Alert]:
    """Alerts of incidents in the staff member's scope (none for anyone but console
    staff)."""
    qs = alerts if alerts is not None else Alert.objects.all()
    if not has_role(user, CONSOLE_ROLES):
        return qs.none()
    # The incident app sits above this one: its zone is named, never imported.
    return qs.filter(scope_of(user).zone_q("incident__zone"))


def access_alert(user: AnyUser | None, alert_id: int) -> Alert:
    access_console(user)
    alert = alerts_in_scope(user).filter(pk=alert_id).first()
    if alert is None:
        raise Http404
    return alert
