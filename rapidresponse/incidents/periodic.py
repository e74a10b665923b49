"""Incidents' periodic job and retention rules (run by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.models import Message
from rapidresponse.incidents.actions import do_expire_stale
from rapidresponse.incidents.holds import held_q
from rapidresponse.incidents.models import (
    OPEN_STATES,
    Incident,
    Report,
    Surge,
    Verification,
)
from rapidresponse.jobs.registry import not_personal, periodic, personal_data, retention
from rapidresponse.jobs.retention import deleted

EXPIRE_EVERY_S = 60


@periodic("incidents.expire", every_s=EXPIRE_EVERY_S)
def expire() -> None:
    do_expire_stale()


@retention("report_details", model="incidents.Report",
           rule=_("notes, free text, contact, reporter key and network key erased after "
                "RETENTION_REPORT_DETAILS_DAYS; the report is deleted with its incident"))
def report_details(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)
    return Report.objects.filter(created_at__lt=cutoff).exclude(
        notes="", contact_encrypted="", location_text="", uniform_text="", equipment_text="",
        reporter_key="", network_key="").update(
            notes="", contact_encrypted="", location_text="", uniform_text="",
            equipment_text="", reporter_key="", network_key="")


@retention("surges", model="incidents.Surge",
           rule=_("surges of reports deleted RETENTION_REPORT_DETAILS_DAYS after they ended"))
def surges(now: datetime) -> int:
    return deleted(Surge.objects.filter(
        last_over_at__lt=now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)))


@retention("incidents", model="incidents.Incident",
           rule=_("closed incidents, with their reports, verifications, requests and alerts "
                "(and the alerts' messages), deleted RETENTION_INCIDENT_DAYS after the last "
                "report, unless something still holds the incident (its evidence)"))
def incidents(now: datetime) -> dict[str, int]:
    old = Incident.objects.filter(
        last_report_at__lt=now - timedelta(days=settings.RETENTION_INCIDENT_DAYS),
    ).exclude(state__in=OPEN_STATES).exclude(held_q())
    messages = list(Alert.objects.filter(incident__in=old).values_list("message_id", flat=True))
    return {"incidents": deleted(old),
            "alert_messages": deleted(Message.objects.filter(pk__in=messages))}


@retention("incident_details", model="incidents.Verification",
           rule=_("verifiers' notes, and the cross streets of incidents and their alerts (the "
                "neighbourhood's name stays), erased after RETENTION_INCIDENT_DETAILS_DAYS"))
def incident_details(now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=settings.RETENTION_INCIDENT_DETAILS_DAYS)
    notes = Verification.objects.filter(created_at__lt=cutoff).exclude(notes="").update(
        notes="")
    old = Incident.objects.filter(last_report_at__lt=cutoff).exclude(cross_streets="")
    streets = 0
    for incident in old.select_related("zone"):
        place = incident.zone.name if incident.zone else ""
        Alert.objects.filter(incident=incident, area_name=incident.cross_streets).update(
            area_name=place)
        streets += Incident.objects.filter(pk=incident.pk).update(cross_streets="")
    return {"verifier_notes": notes, "cross_streets": streets}


personal_data(
    "incidents.Incident", fields=("cell", "cross_streets"), category="reports",
    purpose=_("where activity was reported: what an alert names, and what responders go to"),
    protection=_("a resolution-9 cell (the public see resolution 7); cross streets typed by "
               "staff, erased after RETENTION_INCIDENT_DETAILS_DAYS"),
    retention=("incidents", "incident_details"))
personal_data(
    "incidents.Report", fields=("cell", "location_text", "uniform_text", "equipment_text",
                                "notes", "contact_encrypted", "reporter_key", "network_key",
                                "entered_by"),
    category="reports", purpose=_("what someone reported, for dispatchers and verifiers only; "
                                  "the reporter's and network's keys tell independent "
                                  "reporters apart"),
    protection=_("free text never reaches an alert; contact encrypted (Fernet); the reporter "
               "as a keyed hash, the client's network (IPv6 /64, IPv4 /24) as a hash under a "
               "key that changes every day, never an IP address; erased after "
               "RETENTION_REPORT_DETAILS_DAYS"), retention=("report_details", "incidents"),
    encrypted=("contact_encrypted",))
personal_data(
    "incidents.VerificationRequest", fields=("verifier", "requested_by"), category="reports",
    purpose=_("which verifier was asked to go and look"), protection=_("plain"),
    retention=("incidents",))
personal_data(
    "incidents.Verification", fields=("verifier", "notes"), category="reports",
    purpose=_("what a verifier found"), protection=_("notes erased after "
                                                "RETENTION_INCIDENT_DETAILS_DAYS"),
    retention=("incident_details", "incidents"))
personal_data(
    "alerts.Alert", fields=("center_cell", "area_name", "created_by"), category="reports",
    purpose=_("the alert as it was sent: its area, and who confirmed it"),
    protection=_("a resolution-8 cell; the area's name, cross streets erased after "
               "RETENTION_INCIDENT_DETAILS_DAYS"), retention=("incidents", "incident_details"))
not_personal("incidents.Surge", fields=("cell", "peak", "held_reports"),
             why=_("how many reports came from around a resolution-8 cell: a count, no "
                   "reporter"))
not_personal("alerts.AlertCell", fields=("cell",),
             why=_("the cells around an alert, with their distance, for the fan-out"))
