"""Messages about an incident that are not alerts: the request to a verifier to go and look."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from rapidresponse.alerts.compose import fields
from rapidresponse.incidents.models import Incident, State
from rapidresponse.incidents.queries import facts_of
from rapidresponse.members.models import language_codes

#: The question a verification request asks by SMS ("reply YES if you are going"): the
#: answer comes back to hotline.verifier_answers (channels.sms.questions).
VERIFY_QUESTION = "verify"


def stand_down_bodies(incident: Incident) -> dict[str, dict[str, str]]:
    """To the verifiers asked who are no longer needed: someone else recorded the finding."""
    facts = facts_of(incident)
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            f = fields(facts)
            f["state"] = str(State(incident.state).label)
            subject = _("%(drill)sIncident %(id)s: no need to verify") % f
            text = _("%(drill)sSTAND DOWN #%(id)s: the report near %(place)s has been "
                     "verified (%(state)s). You are not needed; thank you.") % f
        bodies[lang] = {"subject": subject, "text": text}
    return bodies


def dispatch_bodies(incident: Incident, url: str) -> dict[str, dict[str, str]]:
    """The request to an on-call verifier to go and look."""
    facts = facts_of(incident)
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            f = fields(facts)
            f["url"] = url
            subject = _("%(drill)sPlease verify incident %(id)s") % f
            text = _("%(drill)sVERIFY #%(id)s: report of %(who)s near %(place)s at %(time)s. "
                     "Can you go and look? Reply YES if you are going. Record what you "
                     "find: %(url)s") % f
        bodies[lang] = {"subject": subject, "text": text}
    return bodies
