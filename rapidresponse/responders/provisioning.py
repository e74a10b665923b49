"""`create_staff`'s responder options (registered with accounts.provisioning):

    python manage.py create_staff ana --role responder --password ... \\
        --phone +13235550161 --latitude 34.03 --longitude -118.20 \\
        --skill legal_observer --skill accompaniment

The phone becomes the SMS contact of the person's member record (encrypted, confirmed), so
dispatch requests reach them through the outbox; the point becomes their resolution-8 home
cell and is not kept; the skills replace those they had."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rapidresponse.accounts.models import Staff
from rapidresponse.responders.actions import (
    ResponderSetup,
    build_responder_setup,
    do_provision_responder,
)
from rapidresponse.responders.models import Skill


def add_arguments(parser: Any) -> None:
    parser.add_argument("--phone", metavar="E164",
                        help="responders: the mobile number dispatch requests go to")
    parser.add_argument("--latitude", type=float, metavar="L",
                        help="responders: where they live (only the ~1 km² cell is kept)")
    parser.add_argument("--longitude", type=float, metavar="L")
    parser.add_argument("--skill", action="append", dest="skills", metavar="SKILL",
                        choices=Skill.values,
                        help=f"responders: a skill (repeat for several): "
                             f"{', '.join(Skill.values)}")


def clean(options: Mapping[str, Any]) -> ResponderSetup | None:
    given = [options.get(n) for n in ("phone", "latitude", "longitude", "skills")]
    if all(v in (None, "", []) for v in given):
        return None
    return build_responder_setup(phone=options.get("phone"),
                                 latitude=options.get("latitude"),
                                 longitude=options.get("longitude"),
                                 skills=options.get("skills"))


def apply(staff: Staff, setup: ResponderSetup) -> str:
    profile = do_provision_responder(staff, setup)
    skills = ", ".join(profile.skills.order_by("skill").values_list("skill", flat=True))
    parts = [f"skills: {skills or 'none'}"]
    if setup.phone:
        parts.append("SMS contact set (confirmed)")
    if profile.home_cell is not None:
        parts.append("home cell set")
    return "Responder profile: " + "; ".join(parts)
