"""Checking the privacy manifest against the models (tests and `manage.py check`): a field
that looks personal must be declared, and some fields must never exist at all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.checks import Error, Tags, register
from django.db import models

from rapidresponse.jobs.registry import declared_not_personal, manifest, retention_rules

#: Names that suggest a field holds something about a person.
LOOKS_PERSONAL = re.compile(
    r"(^|_)(name|username|phone|email|contact|number|address|ip|text|notes?|body|bodies|value"
    r"|payload|detail|reply|label|place|location|streets|cell|endpoint|index|key|token"
    r"|secret|code|hash|reason|error|sid|session|data|password|repr|message)(_|$)")
#: What the network never stores (README, principles): no field may be named like this.
FORBIDDEN = re.compile(
    r"immigration|nationality|citizenship|country_of_birth|birth|a_number|alien|ssn"
    r"|social_security|(^|_)ip(_|$)|ip_address|remote_addr|street_address|home_address"
    r"|(^|_)dob(_|$)")
#: Links to a person: a row that points at one holds something about them.
PEOPLE = {"members.Member", "members.ContactPoint", "accounts.Staff", "auth.User"}
#: Our apps, and the libraries' tables that can hold personal data. Not axes: its tables
#: would hold IP addresses, and stay empty because attempts are kept in the cache only
#: (AXES_HANDLER; tests/test_privacy.py checks they stay empty).
CHECKED_APPS = ("rapidresponse.", "django.contrib.auth", "django.contrib.sessions",
                "django.contrib.admin", "django_otp")


@dataclass(frozen=True)
class Finding:
    model: str
    field: str
    problem: str


def _checked_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models()
            if any(m._meta.app_config.name.startswith(p) for p in CHECKED_APPS)]


def _needs_declaring(field: models.Field) -> bool:  # type: ignore[type-arg]
    related = field.related_model if field.is_relation else None
    if related is not None and not isinstance(related, str):
        return related._meta.label in PEOPLE
    return bool(LOOKS_PERSONAL.search(field.name))


def findings(models_: list[type[models.Model]] | None = None) -> list[Finding]:
    """Everything wrong between the models (all of them, or those given) and the manifest:
    empty when all is well."""
    declared: dict[tuple[str, str], str] = {}
    for entry in manifest():
        for name in entry.fields:
            declared[(entry.model, name)] = "personal"
    for other in declared_not_personal():
        for name in other.fields:
            declared[(other.model, name)] = "not personal"
    rules = {rule.name for rule in retention_rules()}
    found = []
    fields_of: dict[str, set[str]] = {}
    for model in _checked_models() if models_ is None else models_:
        label = model._meta.label
        fields_of[label] = set()
        for field in model._meta.concrete_fields:
            fields_of[label].add(field.name)
            if FORBIDDEN.search(field.name) or isinstance(field, models.GenericIPAddressField):
                found.append(Finding(label, field.name, "never stored (README, principles)"))
            elif _needs_declaring(field) and (label, field.name) not in declared:
                found.append(Finding(label, field.name, "looks personal and is not declared"))
    for (label, name), _kind in declared.items():
        if models_ is None and name not in fields_of.get(label, set()):
            found.append(Finding(label, name, "declared but no such field"))
    for entry in manifest():
        if not entry.retention:
            found.append(Finding(entry.model, ",".join(entry.fields), "no retention rule"))
        for rule in entry.retention:
            if rule not in rules:
                found.append(Finding(entry.model, rule, "retention rule not registered"))
    return found


@register(Tags.models)
def check_manifest(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """`manage.py check` (and migrate) refuse a model that holds undeclared personal data."""
    return [Error(f"{f.model}.{f.field}: {f.problem}",
                  hint="Declare it in the app's retention.py (jobs.registry.personal_data or "
                       "not_personal), with its retention rule; see README, Privacy.",
                  id="privacy.E001") for f in findings()]
