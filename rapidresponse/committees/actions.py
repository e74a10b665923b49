"""What staff and members do about committees. Each `do_*` validates its input, raises
InvalidInput with a message per field, and writes under transaction.atomic."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from rapidresponse.accounts import audit
from rapidresponse.accounts.models import Staff
from rapidresponse.committees.models import (
    Committee,
    CommitteeCell,
    CommitteeMember,
    PlanVersion,
    Role,
    new_code,
)
from rapidresponse.lib import geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members.models import Member, language_codes
from rapidresponse.zones.models import Zone, ZoneCell

MAX_RADIUS_M = 3000
MAX_PHONE_TREE = 30
#: What a home address tends to look like: a house number followed by a street word, or a
#: flat number. A meeting point is a public landmark ("the laundromat on 1st and Soto").
HOME_ADDRESS = re.compile(
    r"(\b\d{2,6}\s+(?:[nsew]\.?\s+)?\w+(?:\s+\w+)?\s+(?:st|street|ave|avenue|blvd|road|rd|dr"
    r"|drive|ct|court|pl|place|way|ln|lane|calle|avenida)\b)|(\b(?:apt|apartment|unit|suite"
    r"|depto|departamento)\b)|(#\s*\d+)", re.IGNORECASE)
#: Something that looks like a phone number or a street address has no place in a plan's
#: list of neighbours (first names or nicknames only).
PHONE_LIKE = re.compile(r"\d[\d\s().-]{6,}\d")


def _name(raw: Any, errors: dict[str, str]) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        errors["name"] = _("Give the committee a name.")
    elif len(name) > 100:
        errors["name"] = _("At most %(n)s characters.") % {"n": 100}
    return name


def _languages(raw: Any, errors: dict[str, str]) -> list[str]:
    values = [raw] if isinstance(raw, str) else list(raw or [])
    codes = language_codes()
    picked = [v for v in values if v in codes]
    if len(picked) != len(values):
        errors["languages"] = _("Choose languages from the list.")
    return picked or [settings.LANGUAGE_CODE]


@transaction.atomic
def do_create_committee(*, name: Any, zone: Zone | None, languages: Any = (),
                        actor: Staff | None = None) -> Committee:
    errors: dict[str, str] = {}
    clean = _name(name, errors)
    langs = _languages(languages, errors)
    if zone is None:
        errors["zone"] = _("Choose one of your zones.")
    if errors:
        raise InvalidInput(errors)
    assert zone is not None
    committee = Committee.objects.create(name=clean, zone=zone, languages=langs,
                                         code=_unused_code())
    audit.record(actor.user if actor else None, "committee.created", committee)
    return committee


def _unused_code() -> str:
    while True:
        code = new_code()
        if not Committee.objects.filter(code=code).exists():
            return code


@transaction.atomic
def do_set_area(committee: Committee, *, latitude: Any, longitude: Any, radius_m: Any,
                actor: Staff | None = None) -> int:
    """The committee's area: the cells of its zone within `radius_m` of a centre point
    (a neighbourhood picked on the map). Returns the number of cells."""
    errors: dict[str, str] = {}
    try:
        lat, lng = float(latitude), float(longitude)
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValueError
    except (TypeError, ValueError):
        errors["centre"] = _("Pick the centre of the area on the map.")
        lat = lng = 0.0
    try:
        radius = int(radius_m)
        if not 100 <= radius <= MAX_RADIUS_M:
            raise ValueError
    except (TypeError, ValueError):
        errors["radius_m"] = _("The radius is between 100 and %(max)s metres.") % {
            "max": MAX_RADIUS_M}
        radius = 0
    if errors:
        raise InvalidInput(errors)
    res = settings.H3_MEMBER_RESOLUTION
    centre = geo.cell_for(lat, lng, res)
    wanted = geo.disk(centre, geo.rings_for_radius(radius, res))
    cells = set(ZoneCell.objects.filter(zone=committee.zone, cell__in=wanted)
                .values_list("cell", flat=True))
    if not cells:
        raise InvalidInput({"centre": _("This place is outside the committee's zone.")})
    CommitteeCell.objects.filter(committee=committee).delete()
    CommitteeCell.objects.bulk_create([CommitteeCell(committee=committee, cell=c)
                                       for c in sorted(cells)])
    audit.record(actor.user if actor else None, "committee.area", committee,
                 cells=len(cells))
    return len(cells)


@transaction.atomic
def do_join(committee: Committee, member: Member, *, role: str = Role.MEMBER,
            actor: Staff | None = None) -> CommitteeMember:
    """The member is in the committee with this role (a member already in it keeps their
    place; staff adding them again set the role)."""
    if role not in Role.values:
        raise InvalidInput({"role": _("Choose a role from the list.")})
    if member.status != Member.Status.ACTIVE:
        raise InvalidInput({"member_id": _("This member is not active.")})
    existing = CommitteeMember.objects.filter(committee=committee, member=member).first()
    if existing is not None:
        if actor is not None and existing.role != role:
            existing.role = role
            existing.save(update_fields=["role"])
        return existing
    try:
        with transaction.atomic():
            row = CommitteeMember.objects.create(committee=committee, member=member, role=role)
    except IntegrityError:  # joined twice at once
        return CommitteeMember.objects.get(committee=committee, member=member)
    if actor is not None:
        audit.record(actor.user, "committee.member", committee, member=member.pk, role=role)
    return row


@transaction.atomic
def do_leave(committee: Committee, member: Member) -> bool:
    """The member leaves: their membership row goes at once."""
    return CommitteeMember.objects.filter(committee=committee, member=member).delete()[0] > 0


# --- the response plan ----------------------------------------------------------------------

PLAN_TEXT_FIELDS = {"hotline_caller": 200, "meeting_point": 200, "observers": 300,
                    "neighbour_checks": 2000, "pickup_backups": 2000, "materials": 2000}


def current_plan(committee: Committee) -> PlanVersion | None:
    return committee.plans.order_by("-number").first()


def _plan_text(data: dict[str, Any], name: str, limit: int, errors: dict[str, str]) -> str:
    text = str(data.get(name) or "").strip()
    if len(text) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return text


def _phone_tree(raw: Any, errors: dict[str, str]) -> list[str]:
    lines = raw if isinstance(raw, list) else str(raw or "").replace(",", "\n").splitlines()
    names = [" ".join(str(n).split()) for n in lines]
    names = [n for n in names if n]
    if len(names) > MAX_PHONE_TREE:
        errors["phone_tree"] = _("At most %(n)s names.") % {"n": MAX_PHONE_TREE}
    elif any(len(n) > 40 or PHONE_LIKE.search(n) for n in names):
        errors["phone_tree"] = _("First names or nicknames only: no numbers, no addresses.")
    return names


@transaction.atomic
def do_save_plan(committee: Committee, data: dict[str, Any], *,
                 actor: Staff | None) -> PlanVersion:
    """A new version of the plan (the older ones stay, with who wrote them)."""
    errors: dict[str, str] = {}
    texts = {name: _plan_text(data, name, limit, errors)
             for name, limit in PLAN_TEXT_FIELDS.items()}
    tree = _phone_tree(data.get("phone_tree"), errors)
    langs = [v for v in (data.get("material_languages") or []) if v in language_codes()]
    if texts["meeting_point"]:
        if HOME_ADDRESS.search(texts["meeting_point"]):
            errors["meeting_point"] = _(
                "This looks like a home address. Name a public landmark instead (a park, a "
                "church, a corner shop).")
        elif not data.get("public_place"):
            errors["public_place"] = _("Confirm that the meeting point is a public place.")
    for name in ("neighbour_checks", "pickup_backups", "hotline_caller", "observers"):
        if name not in errors and (HOME_ADDRESS.search(texts[name])
                                   or PHONE_LIKE.search(texts[name])):
            errors[name] = _("First names or nicknames only: no numbers, no addresses.")
    if errors:
        raise InvalidInput(errors)
    # Lock the committee so that two saves at once get two numbers.
    Committee.objects.select_for_update().filter(pk=committee.pk).first()
    last = current_plan(committee)
    plan = PlanVersion.objects.create(
        committee=committee, number=(last.number + 1) if last else 1, phone_tree=tree,
        material_languages=langs, author=actor, **texts)
    audit.record(actor.user if actor else None, "committee.plan", committee,
                 version=plan.number)
    return plan
