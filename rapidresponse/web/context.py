import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from rapidresponse.accounts.access import role_of, staff_of
from rapidresponse.accounts.secondfactor import is_verified
from rapidresponse.support.access import has_family_support
from rapidresponse.zones.outlines import outlines


def network(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    # A session that has only given its password is not staff yet: no staff menu.
    verified = is_verified(user)
    return {
        "network_name": settings.NETWORK_NAME,
        "hotline_number": settings.HOTLINE_NUMBER,
        "staff_role": role_of(user) if verified else None,
        # Pages about the whole network are in the menu of network-wide staff only.
        "network_wide": verified and bool(getattr(staff_of(user), "network_wide", False)),
        "signing_in": signed_in and not verified,
        # Family-support volunteers see the cases in their menu (asked only when shown).
        "family_support": SimpleLazyObject(
            lambda: verified and _family_support(user)),
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_attribution": settings.MAP_TILE_ATTRIBUTION if settings.MAP_TILE_URL else "",
        "map_tile_max_zoom": settings.MAP_TILE_MAX_ZOOM,
        # Computed only on pages with a map (the template asks for it).
        "map_zones_json": SimpleLazyObject(lambda: json.dumps(outlines())),
    }


def _family_support(user: Any) -> bool:
    staff = staff_of(user)
    return staff is not None and has_family_support(staff)
