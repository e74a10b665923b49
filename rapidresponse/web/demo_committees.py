"""The demo's block committee: "Calle Soto block" in Boyle Heights, with María López as its
captain, Daniel Kim as a member, its area around the middle of Boyle Heights, and a response
plan written by the coordinator (everything fictional)."""

from __future__ import annotations

from rapidresponse.accounts.models import Staff
from rapidresponse.committees.actions import do_join, do_save_plan, do_set_area
from rapidresponse.committees.models import Committee, Role
from rapidresponse.members.contacts import find_contact
from rapidresponse.zones.models import Zone

NAME = "Calle Soto block"
CODE = "CALLE8"  # JOIN CALLE8 / UNIRME CALLE8; its public page is /c/CALLE8/
CENTRE = (34.0339, -118.2036)
PEOPLE = [("+12135550101", Role.CAPTAIN), ("+12135550102", Role.MEMBER)]
PLAN = {
    "hotline_caller": "Rosa (backup: Tito)",
    "meeting_point": "The gazebo in Hollenbeck Park",
    "public_place": True,
    "observers": "Tito and Lupe, with phones charged",
    "neighbour_checks": "Rosa checks on Doña Carmen; Tito on the twins' family",
    "pickup_backups": "Lupe picks up Sofi and Mateo at Breed Street Elementary",
    "phone_tree": ["Rosa", "Tito", "Lupe", "Don Beto"],
    "materials": "Red cards (know your rights), the hotline number on a sticker",
    "material_languages": ["es", "en"],
}


def seed_committee() -> Committee | None:
    """The committee, once (None when the demo has no Boyle Heights)."""
    found = Committee.objects.filter(code=CODE).first()
    if found is not None:
        return found
    zone = Zone.objects.filter(name="Boyle Heights").first()
    if zone is None:
        return None
    committee = Committee.objects.create(name=NAME, zone=zone, code=CODE,
                                         languages=["es", "en"])
    do_set_area(committee, latitude=CENTRE[0], longitude=CENTRE[1], radius_m=900)
    for phone, role in PEOPLE:
        contact = find_contact("sms", phone)
        if contact is not None:
            do_join(committee, contact.member, role=role)
    author = Staff.objects.filter(user__username="coordinator").first()
    do_save_plan(committee, PLAN, actor=author)
    return committee
