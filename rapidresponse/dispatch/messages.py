"""What dispatch and witness requests say, in every language members choose (the outbox
sends each person the text in their own language). Every place named here is the incident's
coarse place: the cross streets staff checked, else the zone's name."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from rapidresponse.alerts.compose import fields
from rapidresponse.codes.messages import in_every_language
from rapidresponse.incidents.models import Incident
from rapidresponse.incidents.queries import facts_of
from rapidresponse.responders.models import Skill

Bodies = dict[str, dict[str, str]]

#: The topics of the questions asked by SMS (channels.sms.questions): the answer to a
#: dispatch request goes to sms.dispatch_answers, a witness's to sms.witness_answers.
DISPATCH_QUESTION = "dispatch"
WITNESS_QUESTION = "witness"


def _fields(incident: Incident, dispatch_id: int | None = None) -> dict[str, str]:
    f = fields(facts_of(incident))
    if dispatch_id is not None:
        f["dispatch"] = str(dispatch_id)
    f["page"] = settings.PUBLIC_URL + reverse("responder_me")
    return f


def request_bodies(incident: Incident, dispatch_id: int, skill: str) -> Bodies:
    def compose() -> dict[str, str]:
        f = _fields(incident, dispatch_id)
        f["skill"] = str(Skill(skill).label).lower()
        return {"subject": _("%(drill)sCan you go? A %(skill)s is needed") % f,
                "text": _("%(drill)sGO #%(dispatch)s: a %(skill)s is needed near %(place)s "
                          "(%(who)s, since %(time)s). Reply YES if you can go, NO if you "
                          "cannot. Or answer on %(page)s") % f}
    return in_every_language(compose)


def assigned_reply(incident: Incident, dispatch_id: int) -> str:
    """The reply to a YES that got the place (in the active language)."""
    f = _fields(incident, dispatch_id)
    return _("%(drill)sYou are going (#%(dispatch)s): near %(place)s. Observe from a safe "
             "distance; never obstruct. Text HERE when you arrive and DONE when you leave.") % f


def covered_bodies(incident: Incident, dispatch_id: int) -> Bodies:
    def compose() -> dict[str, str]:
        f = _fields(incident, dispatch_id)
        return {"subject": _("%(drill)sCovered: thank you") % f,
                "text": _("%(drill)sCOVERED #%(dispatch)s: enough people are going to "
                          "%(place)s. Thank you: you are not needed this time.") % f}
    return in_every_language(compose)


def stand_down_bodies(incident: Incident, dispatch_id: int) -> Bodies:
    def compose() -> dict[str, str]:
        f = _fields(incident, dispatch_id)
        return {"subject": _("%(drill)sStand down") % f,
                "text": _("%(drill)sSTAND DOWN #%(dispatch)s: the activity near %(place)s is "
                          "over. Thank you. If you are there, leave safely and text DONE.") % f}
    return in_every_language(compose)


def nobody_left_bodies(incident: Incident, dispatch_id: int, skill: str) -> Bodies:
    def compose() -> dict[str, str]:
        f = _fields(incident, dispatch_id)
        f["skill"] = str(Skill(skill).label).lower()
        return {"subject": _("%(drill)sDispatch #%(dispatch)s: nobody left to ask") % f,
                "text": _("%(drill)sDISPATCH #%(dispatch)s for incident #%(id)s: nobody left "
                          "to ask for a %(skill)s near %(place)s, even at the widest radius.")
                % f}
    return in_every_language(compose)


def witness_bodies(incident: Incident) -> Bodies:
    def compose() -> dict[str, str]:
        f = _fields(incident)
        f["rights"] = settings.PUBLIC_URL + reverse("rights")
        return {"subject": _("%(drill)sCan you come and witness?") % f,
                "text": _("%(drill)sWITNESS: %(who)s confirmed near %(place)s since "
                          "%(time)s. If you can come and witness peacefully: observe and "
                          "record from a distance, never obstruct or touch anyone, know your "
                          "rights (%(rights)s). Reply YES if you are coming, NO if not.") % f}
    return in_every_language(compose)


def witness_stand_down_bodies(incident: Incident) -> Bodies:
    def compose() -> dict[str, str]:
        f = _fields(incident)
        return {"subject": _("%(drill)sStand down: it is over") % f,
                "text": _("%(drill)sSTAND DOWN: the activity near %(place)s is over. Thank "
                          "you for coming; please leave safely. Hotline %(hotline)s") % f}
    return in_every_language(compose)
