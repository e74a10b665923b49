"""What we hold: for each category of personal data in the privacy manifest, how many
records exist and the oldest one. What could be compelled from the network today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.db.models import Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from rapidresponse.accounts.access import access_whole_network
from rapidresponse.accounts.models import Role
from rapidresponse.jobs.categories import CATEGORIES
from rapidresponse.jobs.registry import PersonalData, Text, manifest, retention_rules


@dataclass
class Table:
    entry: PersonalData
    records: int
    oldest: datetime | None
    rules: list[Text]


@dataclass
class Category:
    key: str
    label: Any
    tables: list[Table] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(t.records for t in self.tables)

    @property
    def oldest(self) -> datetime | None:
        dates = [t.oldest for t in self.tables if t.oldest is not None]
        return min(dates) if dates else None


def holdings() -> list[Category]:
    rules = {rule.name: rule.rule for rule in retention_rules()}
    categories = {key: Category(key, label) for key, label in CATEGORIES.items()}
    seen: set[str] = set()
    for entry in manifest():
        if entry.model in seen:
            continue  # one row per table, under its first declaration
        seen.add(entry.model)
        model = apps.get_model(entry.model)
        records = model._default_manager.count()
        oldest = None
        if entry.dated_by and records:
            oldest = model._default_manager.aggregate(o=Min(entry.dated_by))["o"]
        categories[entry.category].tables.append(Table(
            entry=entry, records=records, oldest=oldest,
            rules=[rules[name] for name in entry.retention if name in rules]))
    return [c for c in categories.values() if c.tables]


@never_cache
@login_required
def what_we_hold(request: HttpRequest) -> HttpResponse:
    # What the whole database holds: for coordinators of the whole network.
    access_whole_network(request.user, (Role.COORDINATOR,))
    return render(request, "web/held.html", {"categories": holdings()})
