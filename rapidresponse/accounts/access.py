"""Authorisation helpers: every view and API endpoint asks one of these.

The role decides what a staff member may do; the zones decide on what.

- **Zones.** A staff member works in the zones they hold (`Staff.zones`) and in every zone
  inside them: holding the region *Los Angeles* is holding its neighbourhoods.
- **Network-wide** is a flag of its own (`Staff.network_wide`, `create_staff
  --network-wide`): every zone, and what lies outside every zone (an incident reported where
  the network has drawn no zone). No zone is implied by a role: a coordinator is
  network-wide only when made so.
- **No zone and not network-wide: nothing.** Such a person sees no incident, member, message
  or delivery until they are given a zone.
- **Out of scope is not found.** An object outside the scope answers 404, as if it did not
  exist, so that a phished login cannot even learn what another zone holds.

`Scope` is the one definition; each kind of object is scoped once, on top of it:
incidents and their reports, requests and alerts (`incidents/access.py`,
`alerts/access.py`: by the incident's zone), members and what was sent to them
(`members_in_scope` here, `delivery/access.py`: by the cells of the members' places), SMS
conversations (`channels/sms/access.py`). New views get the scoping by asking these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from rapidresponse.accounts.models import Role, Staff
from rapidresponse.members.models import Member, WatchArea
from rapidresponse.zones.models import ZoneCell
from rapidresponse.zones.queries import Area, area_of, with_descendants

AnyUser = User | AnonymousUser

CONSOLE_ROLES = (Role.COORDINATOR, Role.DISPATCHER)
VERIFY_ROLES = (Role.COORDINATOR, Role.DISPATCHER, Role.VERIFIER)

#: A condition true of every row, and one true of none: unlike an empty Q(), they keep their
#: meaning when combined with | and &.
EVERY_ROW = Q(pk__isnull=False)
NO_ROW = Q(pk__in=[])


def staff_of(user: AnyUser | None) -> Staff | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return getattr(user, "staff", None)


def role_of(user: AnyUser | None) -> str | None:
    staff = staff_of(user)
    return staff.role if staff is not None else None


def is_staff_member(user: AnyUser | None) -> bool:
    return role_of(user) is not None


def has_role(user: AnyUser | None, roles: tuple[str, ...]) -> bool:
    return role_of(user) in roles


def access_role(user: AnyUser | None, roles: tuple[str, ...]) -> None:
    if not has_role(user, roles):
        raise PermissionDenied


def access_console(user: AnyUser | None) -> None:
    access_role(user, CONSOLE_ROLES)


def access_members(user: AnyUser | None) -> None:
    access_role(user, (Role.COORDINATOR,))


def access_whole_network(user: AnyUser | None, roles: tuple[str, ...]) -> None:
    """Pages about the whole network (what the database holds): network-wide staff only."""
    access_role(user, roles)
    if not scope_of(user).network_wide:
        raise PermissionDenied


# --- zones --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where a staff member works: network-wide, or a set of zones (with the zones inside
    them). Empty: nowhere."""

    network_wide: bool = False
    zone_ids: frozenset[int] = frozenset()
    #: The zones held (not those inside them), to name them.
    held: frozenset[int] = frozenset()
    _area: list[Area] = field(default_factory=list, compare=False, repr=False)

    @property
    def nowhere(self) -> bool:
        return not self.network_wide and not self.zone_ids

    def covers(self, zone_id: int | None) -> bool:
        """An object in this zone (None: outside every zone) is in scope."""
        return self.network_wide or (zone_id is not None and zone_id in self.zone_ids)

    def zone_q(self, path: str) -> Q:
        """Rows whose zone (the foreign key at `path`, e.g. "zone", "incident__zone") is in
        scope. A row outside every zone is in the scope of network-wide staff only."""
        if self.network_wide:
            return EVERY_ROW
        if not self.zone_ids:
            return NO_ROW
        return Q(**{f"{path}__in": self.zone_ids})

    def cells(self) -> QuerySet[ZoneCell, Any]:
        """The resolution-8 cells of the zones in scope (a subquery)."""
        return ZoneCell.objects.filter(zone_id__in=self.zone_ids).values("cell")

    def member_q(self, path: str) -> Q:
        """Rows whose member (`path`: "pk" for members themselves, "member" for what points
        to one) has a place in scope. A member with no place (a number that only texted
        the hotline, someone who opted out) is in the scope of network-wide staff only."""
        if self.network_wide:
            return EVERY_ROW
        if not self.zone_ids:
            return NO_ROW
        placed = WatchArea.objects.filter(cell__in=self.cells()).values("member_id")
        return Q(**{f"{path}__in": placed})

    def area(self) -> Area | None:
        """The cells a new member's places must lie in (None: anywhere)."""
        if self.network_wide:
            return None
        if not self._area:
            self._area.append(area_of(self.zone_ids, self.held))
        return self._area[0]


NOWHERE = Scope()


def scope_of(user: AnyUser | None) -> Scope:
    """The staff member's scope (NOWHERE for anyone else), worked out once per request."""
    staff = staff_of(user)
    if staff is None:
        return NOWHERE
    cached = getattr(staff, "_rr_scope", None)
    if isinstance(cached, Scope):
        return cached
    if staff.network_wide:
        scope = Scope(network_wide=True)
    else:
        held = frozenset(staff.zones.values_list("pk", flat=True))
        scope = Scope(zone_ids=with_descendants(held) if held else frozenset(), held=held)
    staff._rr_scope = scope  # type: ignore[attr-defined]
    return scope


def members_in_scope(user: AnyUser | None,
                     members: QuerySet[Member] | None = None) -> QuerySet[Member]:
    qs = members if members is not None else Member.objects.all()
    return qs.filter(scope_of(user).member_q("pk"))


def access_member(user: AnyUser | None, member_id: int) -> Member:
    """A member with a place in the console staff member's zones, else 404."""
    access_console(user)
    member = members_in_scope(user).filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member
