"""Who sees the hotline's voicemails and who may take an offer (built on accounts.access).

A voicemail has no zone (the caller said where only in the recording), so zones cannot scope
it. It is shown to console staff (dispatchers and coordinators) who are network-wide, or who
are on shift as a dispatcher right now anywhere in the network: exactly the people the call
would have rung. Anyone else in the console gets 404, as for an object outside their zones;
other roles 403. Someone whose shift ends stops seeing voicemails.

Offers follow their object: an incident's offer is taken from the incident's page, which
incidents' own access rules scope by zone."""

from __future__ import annotations

from django.http import Http404

from rapidresponse.accounts.access import (
    CONSOLE_ROLES,
    AnyUser,
    access_console,
    has_role,
    scope_of,
    staff_of,
)
from rapidresponse.switchboard.models import Voicemail
from rapidresponse.switchboard.ringing import is_on_shift


def may_hear_voicemails(user: AnyUser | None) -> bool:
    if not has_role(user, CONSOLE_ROLES):
        return False
    staff = staff_of(user)
    if staff is None:
        return False
    return scope_of(user).network_wide or is_on_shift(staff)


def access_voicemail(user: AnyUser | None, voicemail_id: int) -> Voicemail:
    access_console(user)
    if not may_hear_voicemails(user):
        raise Http404
    voicemail = Voicemail.objects.filter(pk=voicemail_id).first()
    if voicemail is None:
        raise Http404
    return voicemail
