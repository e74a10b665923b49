"""What partner systems receive about an alert (added to the webhook payload)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from rapidresponse.alerts.models import Alert
from rapidresponse.channels.webhook.partners import payload_section
from rapidresponse.delivery.models import Message
from rapidresponse.lib import geo


@payload_section
def alert_section(message: Message) -> tuple[str, dict[str, Any]] | None:
    alert = Alert.objects.filter(message_id=message.pk).first()
    if alert is None:
        return None
    lat, lng = geo.center(alert.center_cell)
    return "alert", {
        "id": alert.pk,
        "kind": alert.kind,
        "incident": alert.incident_id,
        "original": alert.original_id,
        "drill": alert.is_drill,
        "activity": alert.activity,
        "agency": alert.agency,
        "created_at": alert.created_at.isoformat(),
        "texts": message.bodies,
        "area": {"name": alert.area_name, "latitude": round(lat, 4),
                 "longitude": round(lng, 4), "radius_m": alert.radius_m},
        "cap_url": settings.PUBLIC_URL + reverse("alert_cap", args=[alert.pk]),
    }
