"""What the report forms (the public one and the dispatcher's phone report) offer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rapidresponse.alerts.vocabulary import Activity, Agency
from rapidresponse.zones.queries import neighbourhoods


def report_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"activities": Activity.choices, "agencies": Agency.choices, "zones": neighbourhoods(),
            "values": request.POST if request.method == "POST" else {}, **extra}
