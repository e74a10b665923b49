"""What the hotline number answers, in the sender's language. Each text fits one or two SMS
segments once written in GSM-7 (see tests/test_sms_segments.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _


def _join_url() -> str:
    return settings.PUBLIC_URL + reverse("join")


def _opted_out() -> str:
    return _("%(network)s: you will get no more messages from us. Reply START to get alerts "
             "again.") % {"network": settings.NETWORK_NAME}


def _opted_in() -> str:
    return _("%(network)s: you will get alerts again. Reply STOP to stop.") % {
        "network": settings.NETWORK_NAME}


def _opted_in_no_place() -> str:
    return _("%(network)s: you will get alerts again once you choose your area at %(url)s "
             "Reply STOP to stop.") % {"network": settings.NETWORK_NAME, "url": _join_url()}


def _already_in() -> str:
    return _("%(network)s: you already get alerts. Reply STOP to stop.") % {
        "network": settings.NETWORK_NAME}


def _not_member() -> str:
    return _("%(network)s: to get alerts, sign up at %(url)s") % {
        "network": settings.NETWORK_NAME, "url": _join_url()}


def _help() -> str:
    return _("%(network)s: verified alerts about immigration enforcement. Hotline "
             "%(hotline)s. To report, text what you see. Reply STOP to stop, ESPAÑOL for "
             "Spanish.") % {"network": settings.NETWORK_NAME,
                            "hotline": settings.HOTLINE_NUMBER}


def _language_set() -> str:
    return _("%(network)s: you will get messages in English.") % {
        "network": settings.NETWORK_NAME}


def _nothing_pending() -> str:
    return _("Nothing is waiting for your answer. To report, text what you see.")


def _ask_where() -> str:
    return _("%(network)s: thank you. Where is this happening? Reply with the cross streets "
             "and the neighbourhood.") % {"network": settings.NETWORK_NAME}


def _ask_what() -> str:
    return _("What did you see? How many agents and vehicles, and what are they doing?")


def _thanks() -> str:
    return _("Thank you. Your report is with our dispatchers; they may text you back. Stay "
             "safe. Hotline %(hotline)s") % {"hotline": settings.HOTLINE_NUMBER}


def _thanks_unplaced() -> str:
    return _("Thank you. A dispatcher will check where this is and may text you back. "
             "Hotline %(hotline)s") % {"hotline": settings.HOTLINE_NUMBER}


def _received() -> str:
    return _("Thank you, a dispatcher has your messages. Hotline %(hotline)s") % {
        "hotline": settings.HOTLINE_NUMBER}


TEXTS: dict[str, Callable[[], str]] = {
    "opted_out": _opted_out,
    "opted_in": _opted_in,
    "opted_in_no_place": _opted_in_no_place,
    "already_in": _already_in,
    "not_member": _not_member,
    "help": _help,
    "language_set": _language_set,
    "nothing_pending": _nothing_pending,
    "ask_where": _ask_where,
    "ask_what": _ask_what,
    "thanks": _thanks,
    "thanks_unplaced": _thanks_unplaced,
    "received": _received,
}


def text(name: str, language: str) -> str:
    with translation.override(language):
        return TEXTS[name]()


def ask_where_again(language: str, examples: list[str]) -> str:
    with translation.override(language):
        if examples:
            return _("We could not find that place. Which neighbourhood is it in? For "
                     "example: %(examples)s") % {"examples": ", ".join(examples)}
        return _("We could not find that place. Which neighbourhood is it in?")


def verifier_going(language: str, incident_id: int, url: str) -> str:
    with translation.override(language):
        return _("Thank you: the dispatcher knows you are going to #%(id)s. Stay safe. "
                 "Record what you find: %(url)s") % {"id": incident_id, "url": url}
