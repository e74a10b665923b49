"""What the worker runs on a timer, and the retention rule of every table with personal data.

Apps register here from their AppConfig.ready(), by importing a module of theirs whose
functions are decorated (`@periodic(...)`, `@retention(...)`): this app, at the bottom of
the layers, never imports them. The worker (management/commands/worker.py) runs every
periodic job on its own schedule; `enforce_retention` (retention.py) runs every rule, in the
order the apps registered them (the order of INSTALLED_APPS, lower layers first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.utils.functional import Promise

#: Text for people: a string, or a lazy translation.
Text = str | Promise

F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[], object]
    every_s: float


@dataclass(frozen=True)
class RetentionRule:
    """What is deleted or erased from one table, and when. `enforce(now)` returns how many
    rows it deleted or erased (or, for a rule that clears several tables at once, a count
    per name)."""

    name: str
    model: str  # "app_label.ModelName"
    rule: Text  # for people: what goes, and when
    enforce: Callable[[datetime], int | dict[str, int]]


_jobs: dict[str, PeriodicJob] = {}
_rules: dict[str, RetentionRule] = {}
_warm_ups: dict[str, Callable[[], object]] = {}


def periodic(name: str, *, every_s: float) -> Callable[[F], F]:
    """Run the decorated function (no arguments) every `every_s` seconds in every worker.
    It must be idempotent: several workers run it."""
    def register(fn: F) -> F:
        _jobs[name] = PeriodicJob(name=name, run=fn, every_s=every_s)
        return fn
    return register


def retention(name: str, *, model: str, rule: Text) -> Callable[[F], F]:
    """The decorated function (now: datetime) -> int enforces one retention rule."""
    def register(fn: F) -> F:
        _rules[name] = RetentionRule(name=name, model=model, rule=rule,
                                     enforce=fn)  # type: ignore[arg-type]
        return fn
    return register


def warm_up(name: str) -> Callable[[F], F]:
    """Run the decorated function once when a worker starts, before any work: load what the
    first job needs (channel backends, the URL map) before it is urgent, not during it."""
    def register(fn: F) -> F:
        _warm_ups[name] = fn
        return fn
    return register


_rotations: dict[str, Callable[[], int]] = {}


def key_rotation(name: str) -> Callable[[F], F]:
    """The decorated function () -> int re-encrypts, with the first of its keys, what an app
    keeps encrypted outside the manifest's `encrypted` fields (evidence files): run by
    `rotate_keys`, it returns how many things it re-encrypted."""
    def register(fn: F) -> F:
        _rotations[name] = fn  # type: ignore[assignment]
        return fn
    return register


def key_rotations() -> dict[str, Callable[[], int]]:
    return dict(_rotations)


def periodic_jobs() -> list[PeriodicJob]:
    return list(_jobs.values())


def retention_rules() -> list[RetentionRule]:
    return list(_rules.values())


def warm_ups() -> list[Callable[[], object]]:
    return list(_warm_ups.values())


# --- the privacy manifest: every field that holds personal data, declared once --------------


@dataclass(frozen=True)
class PersonalData:
    """Fields of one table that hold personal data: what they are for, how they are
    protected, which retention rules clear them, and the field that dates a record."""

    model: str  # "app_label.ModelName"
    fields: tuple[str, ...]
    category: str  # a key of CATEGORIES
    purpose: Text
    protection: Text  # e.g. "encrypted (Fernet)", "keyed hash", "coarse H3 cell", "plain"
    retention: tuple[str, ...]  # names of registered retention rules
    encrypted: tuple[str, ...] = ()  # the fields rotate_keys re-encrypts
    dated_by: str = "created_at"  # "" when a record carries no date


@dataclass(frozen=True)
class NotPersonal:
    """Fields whose names suggest personal data but that hold none, with the reason."""

    model: str
    fields: tuple[str, ...]
    why: Text


_personal: list[PersonalData] = []
_not_personal: list[NotPersonal] = []


def personal_data(model: str, *, fields: tuple[str, ...], category: str, purpose: Text,
                  protection: Text, retention: tuple[str, ...],
                  encrypted: tuple[str, ...] = (), dated_by: str = "created_at") -> None:
    _personal.append(PersonalData(model=model, fields=fields, category=category,
                                  purpose=purpose, protection=protection,
                                  retention=retention, encrypted=encrypted,
                                  dated_by=dated_by))


def not_personal(model: str, *, fields: tuple[str, ...], why: Text) -> None:
    _not_personal.append(NotPersonal(model=model, fields=fields, why=why))


def manifest() -> list[PersonalData]:
    return list(_personal)


def declared_not_personal() -> list[NotPersonal]:
    return list(_not_personal)
