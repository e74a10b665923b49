"""Alert text, composed only from structured fields: never from a reporter's words."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from rapidresponse.incidents.models import Agency, Incident
from rapidresponse.members.models import language_codes

IMMIGRATION_AGENCIES = {Agency.ICE, Agency.CBP, Agency.HSI}


def place_name(incident: Incident) -> str:
    if incident.cross_streets:
        return incident.cross_streets
    if incident.zone_id:
        return incident.zone.name  # type: ignore[union-attr]
    return _("your area")


def _fields(incident: Incident) -> dict[str, str]:
    seen = timezone.localtime(incident.first_seen_at)
    agency = Agency(incident.agency)
    who = (_("Immigration agents (%(agency)s)") % {"agency": agency.label}
           if agency in IMMIGRATION_AGENCIES else _("Immigration agents"))
    return {
        "drill": _("[DRILL - EXERCISE ONLY] ") if incident.is_drill else "",
        "who": who,
        "place": place_name(incident),
        "time": time_format(seen, "H:i"),
        "hotline": settings.HOTLINE_NUMBER,
        "network": settings.NETWORK_NAME,
    }


def _alert(incident: Incident) -> tuple[str, str]:
    f = _fields(incident)
    subject = _("%(drill)sVerified alert: %(place)s") % f
    text = _("%(drill)sVERIFIED: %(who)s near %(place)s since %(time)s. "
             "Stay calm; you may remain silent and keep the door closed without a "
             "judge-signed warrant. Hotline %(hotline)s") % f
    return subject, text


def _all_clear(incident: Incident) -> tuple[str, str]:
    f = _fields(incident)
    subject = _("%(drill)sAll clear: %(place)s") % f
    text = _("%(drill)sALL CLEAR: the immigration activity near %(place)s "
             "(since %(time)s) has ended. Hotline %(hotline)s") % f
    return subject, text


def _correction(incident: Incident) -> tuple[str, str]:
    f = _fields(incident)
    subject = _("%(drill)sCorrection: false alarm at %(place)s") % f
    text = _("%(drill)sCORRECTION: the alert about %(place)s at %(time)s was a FALSE ALARM. "
             "No immigration activity is confirmed there. Hotline %(hotline)s") % f
    return subject, text


COMPOSERS = {"alert": _alert, "all_clear": _all_clear, "correction": _correction}


def compose(kind: str, incident: Incident) -> dict[str, dict[str, str]]:
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            subject, text = COMPOSERS[kind](incident)
        bodies[lang] = {"subject": subject, "text": text}
    return bodies


def dispatch_bodies(incident: Incident, url: str) -> dict[str, dict[str, str]]:
    """The request to an on-call verifier to go and look."""
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            f = _fields(incident)
            f["url"] = url
            f["id"] = str(incident.pk)
            subject = _("%(drill)sPlease verify incident %(id)s") % f
            text = _("%(drill)sVERIFY #%(id)s: report of %(who)s near %(place)s at %(time)s. "
                     "Can you go and look? Reply YES if you are going. Record what you "
                     "find: %(url)s") % f
        bodies[lang] = {"subject": subject, "text": text}
    return bodies
