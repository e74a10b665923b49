"""Joining, confirming, leaving and importing members."""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rapidresponse.delivery import outbox
from rapidresponse.lib import crypto, geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.contacts import (
    CHOOSABLE_CHANNELS,
    PHONE_KINDS,
    find_contacts,
    index_for,
    normalise,
    normalise_phone,
    q_for,
    same_number,
)
from rapidresponse.members.models import (
    MAX_WATCH_AREAS,
    Channel,
    ConfirmationCode,
    ContactPoint,
    Member,
    WatchArea,
    language_codes,
)
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import middle

CODE_TTL = timedelta(minutes=30)
CODE_MAX_ATTEMPTS = 5
MIN_RADIUS_M = 200


@dataclass
class Place:
    cell: int  # resolution 8
    rings: int
    radius_m: int
    label: str = "home"


#: The form field (and error key) that gives each channel's contact.
CONTACT_FIELDS: dict[str, str] = {Channel.SMS: "phone", Channel.EMAIL: "email",
                                  Channel.SIGNAL: "signal"}


@dataclass
class MemberInput:
    name: str = ""
    language: str = "en"
    contacts: dict[str, str] = field(default_factory=dict)  # kind -> normalised value
    channels: list[str] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)


def place_from_point(lat: Any, lng: Any, radius_m: Any, label: str = "home") -> Place:
    """Only the coarse cell and the ring count are kept; the point itself is dropped here."""
    try:
        lat_f, lng_f = float(lat), float(lng)
        geo.validate_latlng(lat_f, lng_f)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("Choose a place on the map or a neighbourhood.")) from exc
    radius = _radius(radius_m)
    res = settings.H3_MEMBER_RESOLUTION
    return Place(cell=geo.cell_for(lat_f, lng_f, res), rings=geo.rings_for_radius(radius, res),
                 radius_m=radius, label=label)


def place_from_zone(zone: Zone, radius_m: Any, label: str = "home") -> Place:
    point = middle(zone)
    if point is None:
        raise ValidationError(_("This neighbourhood has no area yet."))
    return place_from_point(point[0], point[1], radius_m, label)


def _radius(raw: Any) -> int:
    try:
        radius = int(float(raw)) if raw not in (None, "") else 1000
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(_("The radius must be a number of metres.")) from exc
    if not MIN_RADIUS_M <= radius <= settings.MAX_WATCH_RADIUS_M:
        raise ValidationError(
            _("The radius must be between %(min)s and %(max)s metres.")
            % {"min": MIN_RADIUS_M, "max": settings.MAX_WATCH_RADIUS_M})
    return radius


def build_member_input(*, name: Any = "", language: Any = "en", phone: Any = "",
                       email: Any = "", channels: Any = None, places: list[Place] | None = None,
                       place_error: str | None = None, signal: Any = "") -> MemberInput:
    """Validate every field; raise InvalidInput with a message per bad field.

    `signal` is a Signal number only when it is not the phone: a member who chooses Signal
    and gives a phone gets Signal on that phone number."""
    errors: dict[str, str] = {}
    data = MemberInput()
    data.name = str(name or "").strip()
    if len(data.name) > 100:
        errors["name"] = _("The name is too long (100 characters at most).")
    data.language = str(language or "en").strip().lower()
    if data.language not in language_codes():
        errors["language"] = _("Choose one of these languages: %(langs)s.") % {
            "langs": ", ".join(language_codes())}
    for kind, raw in ((Channel.SMS, phone), (Channel.EMAIL, email), (Channel.SIGNAL, signal)):
        raw = str(raw or "").strip()
        if raw:
            try:
                data.contacts[kind] = normalise(kind, raw)
            except ValidationError as exc:
                errors[CONTACT_FIELDS[kind]] = exc.messages[0]
    if not data.contacts and not any(f in errors for f in CONTACT_FIELDS.values()):
        errors["phone"] = _("Give a phone number or an email address.")
    if channels is None or channels == "" or channels == []:
        data.channels = list(data.contacts)
    else:
        wanted = channels.split(";") if isinstance(channels, str) else list(channels)
        wanted = list(dict.fromkeys(str(c).strip().lower() for c in wanted if str(c).strip()))
        unknown = [c for c in wanted if c not in CHOOSABLE_CHANNELS]
        if unknown:
            errors["channels"] = _("Unknown channel: %(names)s. Use sms, signal or email.") % {
                "names": ", ".join(unknown)}
        else:
            if (Channel.SIGNAL in wanted and Channel.SIGNAL not in data.contacts
                    and Channel.SMS in data.contacts):
                # Signal on the phone number given, unless another Signal number was given.
                data.contacts[Channel.SIGNAL] = data.contacts[Channel.SMS]
            # A contact that was given but is not valid already has its own message.
            missing = [c for c in wanted if c not in data.contacts
                       and CONTACT_FIELDS[c] not in errors
                       and not (c == Channel.SIGNAL and "phone" in errors)]
            if Channel.SIGNAL in missing:
                errors["signal"] = _("To get alerts on Signal, give your mobile phone number "
                                     "or the number you use on Signal.")
                missing.remove(Channel.SIGNAL)
            if missing:
                errors["channels"] = _("No contact given for channel: %(names)s.") % {
                    "names": ", ".join(missing)}
        data.channels = wanted
    if place_error:
        errors["place"] = place_error
    data.places = places or []
    if not data.places and "place" not in errors:
        errors["place"] = _("Choose a place on the map or a neighbourhood.")
    if len(data.places) > MAX_WATCH_AREAS:
        errors["place"] = _("At most %(n)s places.") % {"n": MAX_WATCH_AREAS}
    if errors:
        raise InvalidInput(errors)
    return data


def _existing_contact(data: MemberInput) -> ContactPoint | None:
    """A contact point on the list with one of the values given. A phone number is looked
    for as SMS and as Signal: the same number is the same person whichever way it came."""
    for kind, value in data.contacts.items():
        contact = (ContactPoint.objects.select_related("member")
                   .filter(q_for(same_number(kind), value)).order_by("pk").first())
        if contact:
            return contact
    return None


def _existing_member(data: MemberInput) -> Member | None:
    contact = _existing_contact(data)
    return contact.member if contact is not None else None


def _typed_value(contact: ContactPoint, data: MemberInput) -> str | None:
    """The value typed in this sign-up that is this contact point's own value, if any."""
    for kind, value in data.contacts.items():
        if contact.kind in same_number(kind) and index_for(contact.kind,
                                                           value) == contact.blind_index:
            return value
    return None


def _apply(member: Member, data: MemberInput) -> None:
    member.name = data.name
    member.language = data.language
    member.save()
    member.watch_areas.all().delete()
    WatchArea.objects.bulk_create([
        WatchArea(member=member, label=p.label, cell=p.cell, rings=p.rings, radius_m=p.radius_m)
        for p in data.places])
    for kind, value in data.contacts.items():
        index = index_for(kind, value)
        contact = member.contacts.filter(kind=kind).first()
        if contact is None:
            contact = ContactPoint(member=member, kind=kind)
        elif contact.blind_index != index:
            contact.verified_at = None  # a new number or address must be confirmed again
        contact.value_encrypted = crypto.encrypt(value)
        contact.blind_index = index
        contact.enabled = kind in data.channels
        contact.disabled_at = None
        contact.save()
    member.contacts.exclude(kind__in=data.channels).update(enabled=False)


@transaction.atomic
def do_create_member(data: MemberInput, *, source: str) -> Member:
    """A member added by staff (import, API): active at once, consent recorded by staff."""
    if _existing_member(data) is not None:
        raise InvalidInput({"contact": _("This phone number or email is already on the list.")})
    now = timezone.now()
    member = Member.objects.create(status=Member.Status.ACTIVE, source=source, consent_at=now)
    try:
        with transaction.atomic():
            _apply(member, data)
    except IntegrityError as exc:
        raise InvalidInput({"contact": _("This phone number or email is already on the list.")}
                           ) from exc
    member.contacts.update(verified_at=now)
    return member


def _code_message(member: Member, purpose: str, code: str) -> dict[str, dict[str, str]]:
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            if purpose == ConfirmationCode.Purpose.JOIN:
                text = _("%(network)s: your code to join alerts is %(code)s. "
                         "If you did not ask for this, ignore this message.")
            else:
                text = _("%(network)s: your code to stop all alerts is %(code)s.")
            text = text % {"network": settings.NETWORK_NAME, "code": code}
            bodies[lang] = {"subject": _("Your code"), "text": text}
    return bodies


def _send_code(member: Member, contact: ContactPoint, purpose: str,
               payload: dict[str, Any] | None = None) -> ConfirmationCode:
    code = f"{secrets.randbelow(1_000_000):06d}"
    member.codes.filter(purpose=purpose, used_at__isnull=True).delete()
    record = ConfirmationCode.objects.create(
        member=member, contact=contact, purpose=purpose, code_hash=crypto.token_hash(code),
        expires_at=timezone.now() + CODE_TTL, payload=payload or {})
    outbox.send_to_member(member, "confirmation", _code_message(member, purpose, code),
                          channels=[contact.kind])
    return record


@transaction.atomic
def do_start_signup(data: MemberInput) -> ConfirmationCode:
    """Create a pending member (or find the existing one) and send a code to confirm."""
    matched = _existing_contact(data)
    # The code goes by SMS to a phone, else by email, else over Signal to a Signal number.
    kind = next(k for k in (Channel.SMS, Channel.EMAIL, Channel.SIGNAL) if k in data.contacts)
    if matched is None:
        member = Member.objects.create(status=Member.Status.PENDING, source="signup")
        _apply(member, data)
        contact = member.contacts.get(kind=kind)
        return _send_code(member, contact, ConfirmationCode.Purpose.JOIN)
    # Already known: say nothing different, apply the new settings once confirmed.
    existing = matched.member
    found = existing.contacts.filter(kind=kind).first()
    if found is None or (not found.value_encrypted and _typed_value(found, data) is None):
        found = matched
    if not found.value_encrypted:
        # Someone who left is joining again: their value was erased, so the code needs it.
        found.value_encrypted = crypto.encrypt(_typed_value(found, data) or "")
        found.save(update_fields=["value_encrypted"])
    payload = {
        "name": data.name, "language": data.language, "channels": data.channels,
        "contacts": {k: crypto.encrypt(v) for k, v in data.contacts.items()},
        "places": [p.__dict__ for p in data.places],
    }
    return _send_code(existing, found, ConfirmationCode.Purpose.JOIN, payload)


def _check_code(record: ConfirmationCode, code: str) -> bool:
    if record.used_at or record.expires_at < timezone.now():
        return False
    if record.attempts >= CODE_MAX_ATTEMPTS:
        return False
    if not secrets.compare_digest(record.code_hash, crypto.token_hash(code.strip())):
        ConfirmationCode.objects.filter(pk=record.pk).update(attempts=record.attempts + 1)
        return False
    return True


@transaction.atomic
def do_confirm_code(code_id: int, code: str) -> Member | None:
    """Confirm a join or leave code. Returns the member, or None if the code is wrong."""
    record = (ConfirmationCode.objects.select_for_update().select_related("member", "contact")
              .filter(pk=code_id).first())
    if record is None or not _check_code(record, code):
        return None
    now = timezone.now()
    record.used_at = now
    record.save(update_fields=["used_at"])
    member = record.member
    if record.purpose == ConfirmationCode.Purpose.LEAVE:
        do_opt_out(member)
        return member
    if record.payload:
        p = record.payload
        contacts = {k: crypto.decrypt(v) for k, v in p["contacts"].items()}
        # A phone or email that another member has by now stays theirs.
        contacts = {k: v for k, v in contacts.items() if not ContactPoint.objects.filter(
            q_for(same_number(k), v)).exclude(member=member).exists()}
        data = MemberInput(
            name=p["name"], language=p["language"], channels=p["channels"],
            contacts=contacts, places=[Place(**place) for place in p["places"]])
        _apply(member, data)
    member.status = Member.Status.ACTIVE
    member.consent_at = now
    member.opted_out_at = None
    member.save(update_fields=["status", "consent_at", "opted_out_at"])
    ContactPoint.objects.filter(pk=record.contact_id).update(verified_at=now)
    confirmed = ContactPoint.objects.get(pk=record.contact_id)
    _verify_same_number(confirmed, now)
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


def _verify_same_number(contact: ContactPoint, now: Any) -> int:
    """A phone number confirmed on one channel (a code or link by SMS, or over Signal) is
    confirmed for the member's other channel on the same number: SMS and Signal reach the
    same phone."""
    if contact.kind not in PHONE_KINDS or not contact.value_encrypted:
        return 0
    number = contact.value
    others = [c.pk for c in contact.member.contacts.filter(
        kind__in=PHONE_KINDS, verified_at__isnull=True).exclude(pk=contact.pk)
        if c.blind_index == index_for(c.kind, number)]
    return ContactPoint.objects.filter(pk__in=others).update(verified_at=now)


CONTACT_LINK_SALT = "rapidresponse.members.confirm-contact"
CONTACT_LINK_MAX_AGE = timedelta(days=7)


def _send_contact_link(member: Member, contact: ContactPoint) -> None:
    """A second contact given at sign-up is confirmed by a link sent to it."""
    from django.core import signing
    from django.urls import reverse

    token = signing.dumps({"c": contact.pk, "b": contact.blind_index[:16]},
                          salt=CONTACT_LINK_SALT)
    url = settings.PUBLIC_URL + reverse("confirm_contact", args=[token])
    bodies = {}
    for lang in language_codes():
        with translation.override(lang):
            bodies[lang] = {
                "subject": _("Confirm your address"),
                "text": _("%(network)s: to also get alerts here, open %(url)s "
                          "If you did not ask for this, ignore this message.")
                % {"network": settings.NETWORK_NAME, "url": url}}
    outbox.send_to_member(member, "confirmation", bodies, channels=[contact.kind])


@transaction.atomic
def do_confirm_contact(token: str) -> ContactPoint | None:
    from django.core import signing

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
        _verify_same_number(contact, contact.verified_at)
    return contact


# --- Signal, from the member's own settings page ----------------------------------------

SIGNAL_NUMBER_TRIES_PER_HOUR = 10


def signal_number_for(member: Member, raw: str) -> str | None:
    """The number to use for the member's Signal, from what they typed on their settings
    page: the number typed, else the member's Signal number as it is (None: no change), else
    their mobile phone. Raises ValidationError with a message for the member."""
    from rapidresponse.lib import ratelimit

    current = member.contacts.filter(kind=Channel.SIGNAL).exclude(value_encrypted="").first()
    if not raw.strip():
        if current is not None:
            return None
        phone = member.contacts.filter(kind=Channel.SMS).exclude(value_encrypted="").first()
        if phone is None:
            raise ValidationError(_("Give the number you use on Signal."))
        return phone.value
    number = normalise_phone(raw)
    if current is not None and current.value == number:
        return number
    # Trying many numbers must not become a way to learn who is on the list.
    if not ratelimit.hit("signal-number", str(member.pk), SIGNAL_NUMBER_TRIES_PER_HOUR, 3600):
        raise ValidationError(_("Too many attempts. Wait a few minutes."))
    if any(c.member_id != member.pk for c in find_contacts(Channel.SMS, number)):
        raise ValidationError(_("This number cannot be used for your Signal alerts. If it is "
                                "yours, stop the alerts it gets first."))
    return number


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
def do_remove_signal_contact(member: Member) -> bool:
    """No more alerts over Signal: the member's Signal number is deleted."""
    return member.contacts.filter(kind=Channel.SIGNAL).delete()[0] > 0


@transaction.atomic
def do_start_leave(kind: str, raw: str) -> ConfirmationCode | None:
    """Send a code to stop all alerts. None when the contact is not on the list.

    A phone number may be a member's SMS or Signal contact: the code goes to the SMS one if
    it still works, else over Signal."""
    candidates = [c for c in find_contacts(kind, raw)
                  if c.member.status != Member.Status.OPTED_OUT and c.value_encrypted]
    if not candidates:
        return None
    contact = next((c for c in candidates if c.disabled_at is None), candidates[0])
    return _send_code(contact.member, contact, ConfirmationCode.Purpose.LEAVE)


def do_confirm_leave(kind: str, raw: str, code: str) -> Member | None:
    value = normalise(kind, raw)
    contacts = ContactPoint.objects.filter(q_for(same_number(kind), value))
    record = (ConfirmationCode.objects
              .filter(contact__in=contacts, purpose=ConfirmationCode.Purpose.LEAVE,
                      used_at__isnull=True)
              .order_by("-created_at").first())
    if record is None:
        return None
    return do_confirm_code(record.pk, code)


@transaction.atomic
def do_opt_out(member: Member) -> None:
    """Stop everything at once and forget what is not needed to honour the opt-out.

    The blind index stays (so the number is never messaged again); the encrypted contact
    values, the name and the watch areas are deleted now.
    """
    now = timezone.now()
    member.status = Member.Status.OPTED_OUT
    member.opted_out_at = now
    member.name = ""
    member.save(update_fields=["status", "opted_out_at", "name"])
    member.watch_areas.all().delete()
    member.contacts.update(enabled=False, value_encrypted="")
    from rapidresponse.channels.push.models import PushEndpoint

    PushEndpoint.objects.filter(contact__member=member).delete()  # the browsers' indexes
    from rapidresponse.delivery.models import Delivery, Status

    Delivery.objects.filter(member=member, status=Status.QUEUED).update(
        status=Status.SKIPPED, error="member opted out", updated_at=now)


# --- CSV import -------------------------------------------------------------------------

CSV_COLUMNS = ["name", "phone", "email", "language", "latitude", "longitude", "radius_m",
               "channels", "signal"]


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def member_input_from_mapping(row: dict[str, Any]) -> MemberInput:
    places: list[Place] = []
    place_error = None
    lat, lng = row.get("latitude"), row.get("longitude")
    if lat in (None, "") and lng in (None, ""):
        place_error = _("latitude and longitude are required.")
    else:
        try:
            places = [place_from_point(lat, lng, row.get("radius_m"))]
        except ValidationError as exc:
            place_error = exc.messages[0]
    return build_member_input(
        name=row.get("name"), language=row.get("language") or "en", phone=row.get("phone"),
        email=row.get("email"), channels=row.get("channels"), places=places,
        place_error=place_error, signal=row.get("signal"))


def _line_breaks(values: Any) -> int:
    return sum(len(re.findall(r"\r\n|\r|\n", v)) for v in values if isinstance(v, str))


def import_members_csv(text: str, *, source: str = "import") -> ImportResult:
    """Import a CSV; each bad row is reported by line and the good rows are all kept."""
    result = ImportResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        result.errors.append((reader.line_num + 1, _("This line is not valid CSV (%(reason)s).")
                              % {"reason": exc}))
        return result
    missing = [c for c in ("phone", "email", "latitude", "longitude") if c not in header]
    if not header or missing:
        result.errors.append((1, _("Missing columns: %(cols)s. Expected: %(all)s.") % {
            "cols": ", ".join(missing) or "-", "all": ", ".join(CSV_COLUMNS)}))
        return result
    reader.fieldnames = header
    seen: dict[str, int] = {}  # blind index -> line, to name duplicates within the file
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # line_num counts the lines read without error
            result.errors.append((reader.line_num + 1, _(
                "This line is not valid CSV (%(reason)s); the rest of the file was not read.")
                % {"reason": exc}))
            break
        # The line where the row starts, even when a quoted value holds line breaks.
        line = reader.line_num - _line_breaks(row.values())
        clean = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(clean.values()):
            continue
        try:
            data = member_input_from_mapping(clean)
            indexes = [index_for(kind, value) for kind, value in data.contacts.items()]
            earlier = next((seen[i] for i in indexes if i in seen), None)
            if earlier is not None:
                raise InvalidInput({"contact": _(
                    "The same phone number or email is on line %(line)s.") % {"line": earlier}})
            member = do_create_member(data, source=source)
        except InvalidInput as exc:
            result.errors.append((line, "; ".join(f"{k}: {v}" for k, v in exc.errors.items())))
            continue
        seen.update((i, line) for i in indexes)
        result.created.append(member.pk)
    return result
