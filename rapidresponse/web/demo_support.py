"""The demo's family support: three partner organisations and, when the demo has a confirmed
incident, a detention there with a consented case for responder4 (all fictional; 555-01xx
numbers are reserved for fiction)."""

from __future__ import annotations

from django.utils import timezone

from rapidresponse.accounts.models import Staff
from rapidresponse.incidents.models import Incident, State
from rapidresponse.support.actions import (
    do_add_note,
    do_open_case,
    do_record_detention,
    do_set_follow_up,
)
from rapidresponse.support.models import Partner, SupportCase
from rapidresponse.zones.models import Zone

PARTNERS = [
    ("Eastside Immigrant Legal Aid (fictional)", ["legal", "bond"], ["es", "en"],
     "Boyle Heights", "+13235550181", "https://legal-aid.example.org"),
    ("Valley Family Pantry (fictional)", ["rent_food", "childcare"], ["en", "ko", "es"],
     "Van Nuys", "+18185550182", ""),
    ("LA Bond and Rides Fund (fictional)", ["bond", "transport", "emotional"],
     ["en", "es"], "Los Angeles", "+12135550183", "https://bond-fund.example.org"),
]


def seed_partners() -> None:
    """Three partner organisations, once."""
    if Partner.objects.exists():
        return
    for name, services, languages, zone, phone, url in PARTNERS:
        Partner.objects.create(name=name, services=services, languages=languages,
                               zone=Zone.objects.filter(name=zone).first(), phone=phone,
                               url=url)


def seed_case() -> SupportCase | None:
    """A detention with a consented support case, assigned to responder4 (family support),
    on the demo's confirmed incident if it has one; once."""
    incident = Incident.objects.filter(state=State.CONFIRMED).order_by("pk").first()
    volunteer = Staff.objects.filter(user__username="responder4").first()
    recorder = Staff.objects.filter(user__username="coordinator").first()
    if incident is None or volunteer is None or recorder is None \
            or SupportCase.objects.exists():
        return None
    detention = do_record_detention(
        incident, recorder, people=1, detained_at=incident.first_seen_at,
        notes="Taken from outside the laundromat; two children at home (fictional).")
    case = do_open_case(detention, recorder, consent=True, language="ko",
                        needs=["legal", "bond", "childcare"])
    # Assigned directly: responder4 works in Van Nuys, the incident may lie elsewhere.
    case.assigned = volunteer
    case.save(update_fields=["assigned"])
    do_set_follow_up(case, recorder, timezone.localdate().isoformat())
    do_add_note(case, recorder, "First call with the family done; they asked for a "
                                "Korean-speaking volunteer (fictional).")
    return case
