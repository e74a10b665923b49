from typing import Any

from django.conf import settings
from django.http import HttpRequest

from rapidresponse.accounts.access import role_of


def network(request: HttpRequest) -> dict[str, Any]:
    return {
        "network_name": settings.NETWORK_NAME,
        "hotline_number": settings.HOTLINE_NUMBER,
        "staff_role": role_of(getattr(request, "user", None)),
        "map_tile_url": settings.MAP_TILE_URL,
    }
