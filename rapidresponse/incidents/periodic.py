"""Incidents' periodic job and retention rules (run by rapidresponse.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from rapidresponse.alerts.models import Alert
from rapidresponse.delivery.models import Message
from rapidresponse.incidents.actions import do_expire_stale
from rapidresponse.incidents.models import OPEN_STATES, Incident, Report
from rapidresponse.jobs.registry import periodic, retention
from rapidresponse.jobs.retention import deleted

EXPIRE_EVERY_S = 60


@periodic("incidents.expire", every_s=EXPIRE_EVERY_S)
def expire() -> None:
    do_expire_stale()


@retention("report_details", model="incidents.Report",
           rule="notes, free text, contact and reporter key erased after "
                "RETENTION_REPORT_DETAILS_DAYS; the report is deleted with its incident")
def report_details(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.RETENTION_REPORT_DETAILS_DAYS)
    return Report.objects.filter(created_at__lt=cutoff).exclude(
        notes="", contact_encrypted="", location_text="", uniform_text="", equipment_text="",
        reporter_key="").update(notes="", contact_encrypted="", location_text="",
                                uniform_text="", equipment_text="", reporter_key="")


@retention("incidents", model="incidents.Incident",
           rule="closed incidents, with their reports, verifications, requests and alerts "
                "(and the alerts' messages), deleted RETENTION_INCIDENT_DAYS after the last "
                "report")
def incidents(now: datetime) -> dict[str, int]:
    old = Incident.objects.filter(
        last_report_at__lt=now - timedelta(days=settings.RETENTION_INCIDENT_DAYS),
    ).exclude(state__in=OPEN_STATES)
    messages = list(Alert.objects.filter(incident__in=old).values_list("message_id", flat=True))
    return {"incidents": deleted(old),
            "alert_messages": deleted(Message.objects.filter(pk__in=messages))}
