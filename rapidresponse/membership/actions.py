"""Joining, confirming and leaving: the steps that send a member a code or a link (through the
outbox), on top of members' own actions."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapidresponse.codes.actions import (
    Checked,
    do_check_code,
    do_check_latest_code,
    do_issue_code,
)
from rapidresponse.codes.destinations import Destination
from rapidresponse.codes.messages import Purpose, in_every_language
from rapidresponse.codes.models import OneTimeCode
from rapidresponse.delivery import outbox
from rapidresponse.delivery.models import Kind
from rapidresponse.lib import crypto
from rapidresponse.members.actions import (
    MemberInput,
    Place,
    apply_input,
    do_opt_out,
    do_remove_signal_contact,
    existing_contact,
    typed_value,
    verify_same_number,
)
from rapidresponse.members.contacts import (
    CHOOSABLE_CHANNELS,
    PHONE_KINDS,
    find_contacts,
    index_for,
    q_for,
    same_number,
)
from rapidresponse.members.models import Channel, ContactPoint, Member, WatchArea
from rapidresponse.membership.forms import SettingsInput

JOIN = Purpose("join", gettext_lazy("%(network)s: your code to join alerts is %(code)s. "
                                    "If you did not ask for this, ignore this message."))
LEAVE = Purpose("leave", gettext_lazy("%(network)s: your code to stop all alerts is %(code)s."))
#: The codes entered on /code/<id>/.
PAGE_PURPOSES = (JOIN, LEAVE)


@transaction.atomic
def do_start_signup(data: MemberInput) -> OneTimeCode:
    """Create a pending member (or find the existing one) and send a code to confirm."""
    matched = existing_contact(data)
    # The code goes by SMS to a phone, else by email, else over Signal to a Signal number.
    kind = next(k for k in (Channel.SMS, Channel.EMAIL, Channel.SIGNAL) if k in data.contacts)
    if matched is None:
        member = Member.objects.create(status=Member.Status.PENDING, source="signup")
        apply_input(member, data)
        contact = member.contacts.get(kind=kind)
        return do_issue_code(JOIN, Destination.contact_point(contact))
    # Already known: say nothing different, apply the new settings once confirmed.
    existing = matched.member
    found = existing.contacts.filter(kind=kind).first()
    if found is None or (not found.value_encrypted and typed_value(found, data) is None):
        found = matched
    if not found.value_encrypted:
        # Someone who left is joining again: their value was erased, so the code needs it.
        found.value_encrypted = crypto.encrypt(typed_value(found, data) or "")
        found.save(update_fields=["value_encrypted"])
    # Kept encrypted with the code (the whole payload), erased once the code is used.
    payload = {
        "name": data.name, "language": data.language, "channels": data.channels,
        "contacts": data.contacts, "places": [p.__dict__ for p in data.places],
        "can_witness": data.can_witness,
    }
    return do_issue_code(JOIN, Destination.contact_point(found), payload=payload)


@transaction.atomic
def do_confirm_code(code_id: str, code: str) -> Member | None:
    """Confirm a join or leave code. Returns the member, or None if the code is wrong."""
    checked = do_check_code(code_id, code, purposes=PAGE_PURPOSES)
    if checked is None or checked.member is None or checked.contact is None:
        return None
    return _confirmed(checked)


def _confirmed(checked: Checked) -> Member:
    member = checked.member
    assert member is not None and checked.contact is not None
    now = timezone.now()
    if checked.purpose == LEAVE.name:
        do_opt_out(member)
        return member
    if checked.payload:
        p = checked.payload
        # A phone or email that another member has by now stays theirs.
        contacts = {k: v for k, v in p["contacts"].items() if not ContactPoint.objects.filter(
            q_for(same_number(k), v)).exclude(member=member).exists()}
        data = MemberInput(
            name=p["name"], language=p["language"], channels=p["channels"],
            contacts=contacts, places=[Place(**place) for place in p["places"]],
            can_witness=bool(p.get("can_witness")))
        apply_input(member, data)
    member.status = Member.Status.ACTIVE
    member.consent_at = now
    member.opted_out_at = None
    member.save(update_fields=["status", "consent_at", "opted_out_at"])
    ContactPoint.objects.filter(pk=checked.contact.pk).update(verified_at=now)
    confirmed = ContactPoint.objects.get(pk=checked.contact.pk)
    verify_same_number(confirmed, now)
    # Every other contact chosen for alerts is confirmed by a link sent to it; a number
    # that is both SMS and Signal gets one link (by SMS), which confirms it for both.
    linked: set[str] = set()
    waiting = sorted(member.contacts.filter(enabled=True, verified_at__isnull=True),
                     key=lambda c: CHOOSABLE_CHANNELS.index(c.kind)
                     if c.kind in CHOOSABLE_CHANNELS else len(CHOOSABLE_CHANNELS))
    for other in waiting:
        value = other.value if other.kind in PHONE_KINDS and other.value_encrypted else ""
        if value and value in linked:
            continue
        linked.add(value)
        _send_contact_link(member, other)
    return member


CONTACT_LINK_SALT = "rapidresponse.members.confirm-contact"
CONTACT_LINK_MAX_AGE = timedelta(days=7)


def _send_contact_link(member: Member, contact: ContactPoint) -> None:
    """A second contact given at sign-up is confirmed by a link sent to it."""
    token = signing.dumps({"c": contact.pk, "b": contact.blind_index[:16]},
                          salt=CONTACT_LINK_SALT)
    url = settings.PUBLIC_URL + reverse("confirm_contact", args=[token])
    bodies = in_every_language(lambda: {
        "subject": _("Confirm your address"),
        "text": _("%(network)s: to also get alerts here, open %(url)s "
                  "If you did not ask for this, ignore this message.")
        % {"network": settings.NETWORK_NAME, "url": url}})
    outbox.send_to_member(member, Kind.CONFIRMATION, bodies, channels=[contact.kind])


@transaction.atomic
def do_confirm_contact(token: str) -> ContactPoint | None:
    try:
        data = signing.loads(token, salt=CONTACT_LINK_SALT,
                             max_age=CONTACT_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    contact = ContactPoint.objects.select_related("member").filter(pk=data.get("c")).first()
    if (contact is None or contact.blind_index[:16] != data.get("b")
            or contact.member.status != Member.Status.ACTIVE):
        return None
    if contact.verified_at is None:
        contact.verified_at = timezone.now()
        contact.save(update_fields=["verified_at"])
        verify_same_number(contact, contact.verified_at)
    return contact


@transaction.atomic
def do_set_signal_contact(member: Member, number: str) -> ContactPoint:
    """Send the member's alerts over Signal to this number (replacing their Signal number).

    Confirmed at once when it is a phone number the member already confirmed (their SMS
    number); another number is confirmed by a link sent to it over Signal."""
    now = timezone.now()
    index = index_for(Channel.SIGNAL, number)
    contact = member.contacts.filter(kind=Channel.SIGNAL).first()
    if contact is None:
        contact = ContactPoint(member=member, kind=Channel.SIGNAL)
    if contact.blind_index != index or not contact.value_encrypted:
        contact.verified_at = None
    contact.value_encrypted = crypto.encrypt(number)
    contact.blind_index = index
    contact.enabled = True
    # Typed again: the member says it works now (it may have been stopped as not on Signal).
    contact.disabled_at = None
    contact.disabled_reason = ""
    contact.save()
    if contact.verified_at is None:
        confirmed = member.contacts.filter(kind=Channel.SMS, verified_at__isnull=False,
                                           blind_index=index_for(Channel.SMS, number))
        if confirmed.exists():
            contact.verified_at = now
            contact.save(update_fields=["verified_at"])
        else:
            _send_contact_link(member, contact)
    return contact


@transaction.atomic
def do_start_leave(kind: str, raw: str) -> OneTimeCode | None:
    """Send a code to stop all alerts. None when the contact is not on the list.

    A phone number may be a member's SMS or Signal contact: the code goes to the SMS one if
    it still works, else over Signal."""
    candidates = [c for c in find_contacts(kind, raw)
                  if c.member.status != Member.Status.OPTED_OUT and c.value_encrypted]
    if not candidates:
        return None
    contact = next((c for c in candidates if c.disabled_at is None), candidates[0])
    return do_issue_code(LEAVE, Destination.contact_point(contact))


@transaction.atomic
def do_confirm_leave(kind: str, raw: str, code: str) -> Member | None:
    """The member who left with this code sent to this phone or email, or None. Raises
    ValidationError for a value that is no phone or email."""
    checked = do_check_latest_code(LEAVE, Destination.typed(kind, raw), code)
    if checked is None or checked.member is None or checked.contact is None:
        return None
    return _confirmed(checked)


@transaction.atomic
def do_update_settings(member: Member, data: SettingsInput) -> None:
    member.name = data.name
    member.language = data.language
    member.can_witness = data.can_witness
    member.save(update_fields=["name", "language", "can_witness"])
    member.watch_areas.all().delete()
    WatchArea.objects.bulk_create([
        WatchArea(member=member, label=p.label, cell=p.cell, rings=p.rings, radius_m=p.radius_m)
        for p in data.places])
    if Channel.SIGNAL not in data.channels:
        do_remove_signal_contact(member)
    elif data.signal_number:
        do_set_signal_contact(member, data.signal_number)
    member.contacts.filter(kind__in=data.channels).update(enabled=True)
    member.contacts.exclude(kind__in=data.channels).update(enabled=False)
