"""The member's settings form at /me/, checked with the same rules as joining."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from rapidresponse.lib import geo
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.members import actions as member_actions
from rapidresponse.members.models import WATCH_LABELS, Channel, Member
from rapidresponse.zones.models import Zone


@dataclass
class SettingsInput:
    name: str
    language: str
    channels: list[str]
    places: list[member_actions.Place] = field(default_factory=list)
    # With Signal chosen: the number for it, or None to keep the member's Signal number.
    signal_number: str | None = None
    can_witness: bool = False


def _value(member: Member, kind: str) -> str:
    contact = next((c for c in member.contacts.all() if c.kind == kind), None)
    return contact.value if contact is not None and contact.value_encrypted else ""


def build_settings_input(member: Member, post: Any) -> SettingsInput:
    """Validate the settings form with the same rules as joining. Raises InvalidInput."""
    places: list[member_actions.Place] = []
    place_error = None
    areas = {a.pk: a for a in member.watch_areas.all()}
    try:
        for area_id, area in areas.items():
            if post.get(f"remove_{area_id}") == "yes":
                continue
            label = post.get(f"label_{area_id}") or area.label
            label = label if label in dict(WATCH_LABELS) else "other"
            # The cell is all that is kept of the place; its centre stands for the point.
            lat, lng = geo.center(area.cell)
            places.append(member_actions.place_from_point(
                lat, lng, post.get(f"radius_{area_id}") or area.radius_m, label))
        label = post.get("label_new") or "home"
        label = label if label in dict(WATCH_LABELS) else "other"
        lat, lng = post.get("latitude_new"), post.get("longitude_new")
        zone_id = post.get("zone_new") or ""
        radius = post.get("radius_new") or 1000
        if lat and lng:
            places.append(member_actions.place_from_point(lat, lng, radius, label))
        elif zone_id:
            zone = Zone.objects.filter(pk=int(zone_id)).first() if zone_id.isdigit() else None
            if zone is None:
                raise ValidationError(_("Choose a neighbourhood from the list."))
            places.append(member_actions.place_from_zone(zone, radius, label))
    except ValidationError as exc:
        place_error = exc.messages[0]
    kinds = {c.kind for c in member.contacts.all() if c.value_encrypted}
    chosen = [c for c in post.getlist("channels") if c]
    errors: dict[str, str] = {}
    signal_number, signal_error = _signal_choice(member, chosen, post.get("signal", ""))
    if signal_error:
        errors["signal"] = signal_error
    if Channel.SIGNAL in chosen:
        kinds.add(Channel.SIGNAL)  # a Signal number can be added here
    if unknown := [c for c in chosen if c not in kinds]:
        errors["channels"] = _("You have no contact for: %(names)s.") % {
            "names": ", ".join(unknown)}
    elif not chosen:
        errors["channels"] = _("Choose at least one way to get alerts, or stop all alerts "
                               "below.")
    # The same checks as joining: name, language, places (the contacts are the stored ones).
    try:
        data = member_actions.build_member_input(
            name=post.get("name", ""), language=post.get("language") or member.language,
            phone=_value(member, Channel.SMS), email=_value(member, Channel.EMAIL),
            channels=[c for c in chosen if c in (Channel.SMS, Channel.EMAIL) and c in kinds]
            or None,
            places=places, place_error=place_error)
    except InvalidInput as exc:
        errors.update({k: v for k, v in exc.errors.items()
                       if k not in ("phone", "email") and k not in errors})
        data = None
    if errors or data is None:
        raise InvalidInput(errors or {"form": _("Please check the fields marked below.")})
    return SettingsInput(name=data.name, language=data.language, channels=chosen,
                         places=data.places, signal_number=signal_number,
                         can_witness=post.get("can_witness") == "yes")


def _signal_choice(member: Member, chosen: list[str], raw: str) -> tuple[str | None, str]:
    """(the number for Signal or None to keep it, an error message or "")."""
    if Channel.SIGNAL not in chosen:
        if raw.strip():
            return None, _("Tick Signal as well to get alerts on this Signal number.")
        return None, ""
    try:
        return member_actions.signal_number_for(member, raw), ""
    except ValidationError as exc:
        return None, exc.messages[0]
