"""Alert text, composed only from structured fields: never from a reporter's words.

Whatever raises an alert (an incident, today) hands over `AlertFacts`: fixed choices, a time,
and a place name that staff typed or chose. That is all an alert can say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from rapidresponse.alerts.vocabulary import IMMIGRATION_AGENCIES, Agency
from rapidresponse.members.models import language_codes


@dataclass(frozen=True)
class AlertFacts:
    """What an alert may say about an incident, and where it is."""

    incident_id: int
    cell: int  # the incident's cell (resolution 9)
    activity: str  # vocabulary.Activity
    agency: str  # vocabulary.Agency
    place: str  # cross streets checked by staff, else the zone's name, else ""
    first_seen_at: datetime
    is_drill: bool


def place_name(facts: AlertFacts) -> str:
    return facts.place or _("your area")


def fields(facts: AlertFacts) -> dict[str, str]:
    """The pieces every message about an incident is made of, in the active language."""
    seen = timezone.localtime(facts.first_seen_at)
    agency = Agency(facts.agency)
    who = (_("Immigration agents (%(agency)s)") % {"agency": agency.label}
           if agency in IMMIGRATION_AGENCIES else _("Immigration agents"))
    return {
        "drill": _("[DRILL - EXERCISE ONLY] ") if facts.is_drill else "",
        "who": who,
        "place": place_name(facts),
        "time": time_format(seen, "H:i"),
        "hotline": settings.HOTLINE_NUMBER,
        "network": settings.NETWORK_NAME,
        "id": str(facts.incident_id),
    }


def _alert(facts: AlertFacts) -> tuple[str, str]:
    f = fields(facts)
    subject = _("%(drill)sVerified alert: %(place)s") % f
    text = _("%(drill)sVERIFIED: %(who)s near %(place)s since %(time)s. "
             "Stay calm; you may remain silent and keep the door closed without a "
             "judge-signed warrant. Hotline %(hotline)s") % f
    return subject, text


def _all_clear(facts: AlertFacts) -> tuple[str, str]:
    f = fields(facts)
    subject = _("%(drill)sAll clear: %(place)s") % f
    text = _("%(drill)sALL CLEAR: the immigration activity near %(place)s "
             "(since %(time)s) has ended. Hotline %(hotline)s") % f
    return subject, text


def _correction(facts: AlertFacts) -> tuple[str, str]:
    f = fields(facts)
    subject = _("%(drill)sCorrection: false alarm at %(place)s") % f
    text = _("%(drill)sCORRECTION: the alert about %(place)s at %(time)s was a FALSE ALARM. "
             "No immigration activity is confirmed there. Hotline %(hotline)s") % f
    return subject, text


COMPOSERS = {"alert": _alert, "all_clear": _all_clear, "correction": _correction}


def compose(kind: str, facts: AlertFacts) -> dict[str, dict[str, str]]:
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            subject, text = COMPOSERS[kind](facts)
        bodies[lang] = {"subject": subject, "text": text}
    return bodies
