"""Members: validating what people give us, creating and changing members, opting out, and
importing lists. Sending them codes and links is membership's (an app above the outbox)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapidresponse.lib import crypto, geo, ratelimit
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.contacts import (
    CHOOSABLE_CHANNELS,
    PHONE_KINDS,
    check_phone_country,
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
    ContactPoint,
    Member,
    MemberTag,
    Tag,
    WatchArea,
    language_codes,
)
from rapidresponse.members.signals import member_opted_out
from rapidresponse.zones.models import Zone
from rapidresponse.zones.queries import Area, middle

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
    can_witness: bool = False


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


def existing_contact(data: MemberInput) -> ContactPoint | None:
    """A contact point on the list with one of the values given. A phone number is looked
    for as SMS and as Signal: the same number is the same person whichever way it came."""
    for kind, value in data.contacts.items():
        contact = (ContactPoint.objects.select_related("member")
                   .filter(q_for(same_number(kind), value)).order_by("pk").first())
        if contact:
            return contact
    return None


def existing_member(data: MemberInput) -> Member | None:
    contact = existing_contact(data)
    return contact.member if contact is not None else None


def typed_value(contact: ContactPoint, data: MemberInput) -> str | None:
    """The value typed in this sign-up that is this contact point's own value, if any."""
    for kind, value in data.contacts.items():
        if contact.kind in same_number(kind) and index_for(contact.kind,
                                                           value) == contact.blind_index:
            return value
    return None


def apply_input(member: Member, data: MemberInput) -> None:
    member.name = data.name
    member.language = data.language
    member.can_witness = data.can_witness
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


def check_places_within(data: MemberInput, within: Area | None) -> None:
    """Staff add members only where they work: every place in `within` (None: anywhere)."""
    if within is None or all(within.holds(p.cell) for p in data.places):
        return
    if within.names:
        message = _("This place lies outside the zones you work in (%(zones)s).") % {
            "zones": ", ".join(within.names)}
    else:
        message = _("You work in no zone yet, so you cannot add members.")
    raise InvalidInput({"place": message})


@transaction.atomic
def do_create_member(data: MemberInput, *, source: str, within: Area | None = None) -> Member:
    """A member added by staff (import, API): active at once, consent recorded by staff.
    `within`: the area of the zones the staff member works in (None: anywhere)."""
    check_places_within(data, within)
    if existing_member(data) is not None:
        raise InvalidInput({"contact": _("This phone number or email is already on the list.")})
    now = timezone.now()
    member = Member.objects.create(status=Member.Status.ACTIVE, source=source, consent_at=now)
    try:
        with transaction.atomic():
            apply_input(member, data)
    except IntegrityError as exc:
        raise InvalidInput({"contact": _("This phone number or email is already on the list.")}
                           ) from exc
    member.contacts.update(verified_at=now)
    return member


def verify_same_number(contact: ContactPoint, now: Any) -> int:
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


# --- Signal, from the member's own settings page ----------------------------------------

SIGNAL_NUMBER_TRIES_PER_HOUR = 10


def signal_number_for(member: Member, raw: str) -> str | None:
    """The number to use for the member's Signal, from what they typed on their settings
    page: the number typed, else the member's Signal number as it is (None: no change), else
    their mobile phone. Raises ValidationError with a message for the member."""
    current = member.contacts.filter(kind=Channel.SIGNAL).exclude(value_encrypted="").first()
    if not raw.strip():
        if current is not None:
            return None
        phone = member.contacts.filter(kind=Channel.SMS).exclude(value_encrypted="").first()
        if phone is None:
            raise ValidationError(_("Give the number you use on Signal."))
        return phone.value
    number = check_phone_country(normalise_phone(raw))
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
def do_remove_signal_contact(member: Member) -> bool:
    """No more alerts over Signal: the member's Signal number is deleted."""
    return member.contacts.filter(kind=Channel.SIGNAL).delete()[0] > 0


@transaction.atomic
def do_opt_out(member: Member) -> None:
    """Stop everything at once and forget what is not needed to honour the opt-out.

    The blind index stays (so the number is never messaged again); the encrypted contact
    values, the name and the watch areas are deleted now. Apps that keep more about the
    member (queued messages, browsers) hear of it through `member_opted_out`.
    """
    now = timezone.now()
    member.status = Member.Status.OPTED_OUT
    member.opted_out_at = now
    member.name = ""
    member.save(update_fields=["status", "opted_out_at", "name"])
    member.watch_areas.all().delete()
    MemberTag.objects.filter(member=member).delete()
    member.contacts.update(enabled=False, value_encrypted="")
    member_opted_out.send(sender=Member, member=member)


# --- CSV import -------------------------------------------------------------------------

CSV_COLUMNS = ["name", "phone", "email", "language", "latitude", "longitude", "radius_m",
               "channels", "signal", "tags"]
MAX_TAG_LENGTH = 60
MAX_TAGS_PER_MEMBER = 20


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


def parse_tags(raw: Any) -> list[str]:
    """Tag names from a `;`-separated list (duplicates dropped, case kept as first written);
    InvalidInput for a name too long or too many names."""
    names: dict[str, str] = {}
    for part in str(raw or "").split(";"):
        name = " ".join(part.split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise InvalidInput({"tags": _("A tag has at most %(n)s characters.")
                                % {"n": MAX_TAG_LENGTH}})
        names.setdefault(name.casefold(), name)
    if len(names) > MAX_TAGS_PER_MEMBER:
        raise InvalidInput({"tags": _("At most %(n)s tags.") % {"n": MAX_TAGS_PER_MEMBER}})
    return list(names.values())


def tag_named(name: str, zone: Zone | None) -> Tag:
    """The tag of this name in `zone` (None: a network-wide tag), created if new."""
    found = Tag.objects.filter(name__iexact=name, zone=zone).first()
    return found or Tag.objects.create(name=name, zone=zone)


@transaction.atomic
def do_tag_member(member: Member, names: list[str], zone: Zone | None) -> list[Tag]:
    """Give the member these tags (adding to those they have)."""
    tags = [tag_named(name, zone) for name in names]
    MemberTag.objects.bulk_create([MemberTag(member=member, tag=t) for t in tags],
                                  ignore_conflicts=True)
    return tags


def _line_breaks(values: Any) -> int:
    return sum(len(re.findall(r"\r\n|\r|\n", v)) for v in values if isinstance(v, str))


def import_members_csv(text: str, *, source: str = "import", within: Area | None = None,
                       tag_zone: Zone | None = None) -> ImportResult:
    """Import a CSV; each bad row is reported by line and the good rows are all kept. A row
    whose place lies outside `within` (the importer's zones; None: anywhere) is refused.
    The `tags` column (`;`-separated names) tags the member with the tags of that name in
    `tag_zone` (None: network-wide tags), created when new."""
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
            tags = parse_tags(clean.get("tags"))
            with transaction.atomic():
                member = do_create_member(data, source=source, within=within)
                do_tag_member(member, tags, tag_zone)
        except InvalidInput as exc:
            result.errors.append((line, "; ".join(f"{k}: {v}" for k, v in exc.errors.items())))
            continue
        seen.update((i, line) for i in indexes)
        result.created.append(member.pk)
    return result
