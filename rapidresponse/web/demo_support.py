"""The demo's partner organisations (fictional; 555-01xx numbers are reserved for fiction)."""

from __future__ import annotations

from rapidresponse.support.models import Partner
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
