"""What the apps above accounts add to `create_staff`: their own options and what to do
with them once the login exists (responders: a phone, a home place and skills). accounts
never imports those apps; they register here when they are ready.

An extension has three parts:
- `add_arguments(parser)`: its options (argparse);
- `clean(options)`: checks them before anything is written and returns what `apply` needs,
  or None when none of its options were given (raise InvalidInput, or ValueError, with a
  message for the person at the terminal);
- `apply(staff, cleaned)`: writes, in the same transaction as the login, and returns a
  line to print (or "").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rapidresponse.accounts.models import Staff


@dataclass(frozen=True)
class StaffExtension:
    name: str
    add_arguments: Callable[[Any], None]
    clean: Callable[[Mapping[str, Any]], Any]
    apply: Callable[[Staff, Any], str]


_extensions: dict[str, StaffExtension] = {}


def extend_create_staff(name: str, *, add_arguments: Callable[[Any], None],
                        clean: Callable[[Mapping[str, Any]], Any],
                        apply: Callable[[Staff, Any], str]) -> None:
    _extensions[name] = StaffExtension(name, add_arguments, clean, apply)


def extensions() -> list[StaffExtension]:
    return list(_extensions.values())
