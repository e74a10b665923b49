"""CAP 1.2 (OASIS Common Alerting Protocol) documents for alerts, and the Atom feed.

Regions exchange alerts as CAP: an alert is `Alert`, an all-clear is `Update` and a
correction is `Cancel`, both referencing the original; drills are `status=Exercise`;
alerts for members only are `Restricted`, never `Public`."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse
from xml.etree import ElementTree as ET  # only writes XML, never parses  # nosec B405

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapidresponse.alerts.models import Alert
from rapidresponse.lib import geo
from rapidresponse.members.models import language_codes

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
MSG_TYPES = {Alert.Kind.ALERT: "Alert", Alert.Kind.ALL_CLEAR: "Update",
             Alert.Kind.CORRECTION: "Cancel"}
CAP_LANGUAGES = {"en": "en-US", "es": "es-US"}


def cap_time(value: datetime) -> str:
    """CAP times carry an explicit offset and no fractions; UTC is written -00:00."""
    local = timezone.localtime(value).replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def sender() -> str:
    host = urlparse(settings.PUBLIC_URL).hostname or "localhost"
    return f"alerts@{host}"


def identifier(alert: Alert) -> str:
    host = urlparse(settings.PUBLIC_URL).hostname or "localhost"
    return f"{host}.rapidresponse.alert.{alert.pk}"


def is_public(alert: Alert) -> bool:
    return settings.ALERT_SCOPE == "public" and not alert.is_drill


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    element.text = text
    return element


def circle(alert: Alert) -> str:
    """The alert's area as a CAP circle. A public document is no more precise than the public
    map: the middle of the alert's resolution-7 cell, to three decimals; the restricted one
    (staff and partners) gives the resolution-8 cell, to four."""
    if is_public(alert):
        lat, lng = geo.center(geo.parent(alert.center_cell, settings.H3_PUBLIC_RESOLUTION))
        return f"{lat:.3f},{lng:.3f} {alert.radius_m / 1000:.1f}"
    lat, lng = geo.center(alert.center_cell)
    return f"{lat:.4f},{lng:.4f} {alert.radius_m / 1000:.1f}"


def _info(root: ET.Element, alert: Alert, lang: str) -> None:
    body = alert.message.body(lang)
    with translation.override(lang):
        info = ET.SubElement(root, f"{{{CAP_NS}}}info")
        _sub(info, "language", CAP_LANGUAGES.get(lang, lang))
        _sub(info, "category", "Safety")
        _sub(info, "event", _("Immigration enforcement activity"))
        _sub(info, "responseType", "AllClear" if alert.kind != Alert.Kind.ALERT else "Monitor")
        _sub(info, "urgency", "Past" if alert.kind != Alert.Kind.ALERT else "Immediate")
        _sub(info, "severity", "Minor" if alert.kind != Alert.Kind.ALERT else "Moderate")
        _sub(info, "certainty", "Observed" if alert.kind != Alert.Kind.CORRECTION
             else "Unlikely")
        _sub(info, "senderName", settings.NETWORK_NAME)
        _sub(info, "headline", body.get("subject", "")[:160])
        _sub(info, "description", body["text"])
        _sub(info, "instruction", _("Stay calm. You have the right to remain silent and to keep "
                                    "your door closed without a warrant signed by a judge."))
        _sub(info, "web", settings.PUBLIC_URL + reverse("rights"))
        _sub(info, "contact", settings.HOTLINE_NUMBER)
        area = ET.SubElement(info, f"{{{CAP_NS}}}area")
        _sub(area, "areaDesc", alert.area_name)
        _sub(area, "circle", circle(alert))


def cap_document(alert: Alert) -> bytes:
    ET.register_namespace("", CAP_NS)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", identifier(alert))
    _sub(root, "sender", sender())
    _sub(root, "sent", cap_time(alert.created_at))
    _sub(root, "status", "Exercise" if alert.is_drill else "Actual")
    _sub(root, "msgType", MSG_TYPES[Alert.Kind(alert.kind)])
    _sub(root, "source", settings.NETWORK_NAME)
    if is_public(alert):
        _sub(root, "scope", "Public")
    else:
        _sub(root, "scope", "Restricted")
        _sub(root, "restriction", _("For the members and partners of %(network)s only.")
             % {"network": settings.NETWORK_NAME})
    if alert.is_drill:
        _sub(root, "note", "Exercise: not a real event.")
    if alert.original is not None:
        original = alert.original
        _sub(root, "references",
             f"{sender()},{identifier(original)},{cap_time(original.created_at)}")
    _sub(root, "incidents", f"incident-{alert.incident_id}")
    for lang in language_codes():
        _info(root, alert, lang)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
