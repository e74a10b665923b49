"""How audit entries read on a timeline: each app registers the names of its actions and of
its objects' states (in AppConfig.ready()), so that this app never imports them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_actions: dict[str, Any] = {}
_states: dict[str, Mapping[str, Any]] = {}


def register(object_type: str, *, actions: Mapping[str, Any],
             states: Mapping[str, Any] | None = None) -> None:
    """Names (lazy translations) of an app's audit actions ("incident.confirmed": ...) and
    of the states its objects of `object_type` go through."""
    _actions.update(actions)
    if states is not None:
        _states[object_type] = states


def action_label(action: str) -> str:
    """The action in the reader's language (the code itself when it has no name)."""
    return str(_actions.get(action, action))


def state_label(object_type: str, value: str) -> str:
    return str(_states.get(object_type, {}).get(value, value))
