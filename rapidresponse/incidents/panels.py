"""What the apps above incidents add to the console and to an incident's page.

The console (the dispatcher's queue) and the incident page are incidents' own pages, but the
picture a dispatcher needs during a raid comes from several apps: who is on call and the
dispatches in flight (responders), evidence, family support. Each registers a panel when it is
ready; incidents renders the registered panels in order and never imports those apps.

A panel is a template and a function that gives its context for the request (and, on the
incident page, the incident), or None to show nothing (for example to a role that may not
see it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from rapidresponse.incidents.models import Incident

IncidentContext = Callable[[HttpRequest, Incident], "dict[str, Any] | None"]
ConsoleContext = Callable[[HttpRequest], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    order: int
    context: Callable[..., dict[str, Any] | None]


@dataclass(frozen=True)
class Shown:
    """A panel ready for the template: `{% include shown.template with panel=shown.context %}`."""

    name: str
    template: str
    context: dict[str, Any]


_incident: dict[str, Panel] = {}
_console: dict[str, Panel] = {}


def incident_panel(name: str, template: str, *, order: int = 50
                   ) -> Callable[[IncidentContext], IncidentContext]:
    """Register a panel of the incident page (a decorator of its context function)."""
    def register(fn: IncidentContext) -> IncidentContext:
        _incident[name] = Panel(name, template, order, fn)
        return fn
    return register


def console_panel(name: str, template: str, *, order: int = 50
                  ) -> Callable[[ConsoleContext], ConsoleContext]:
    """Register a panel of the console, beside the queue (a decorator)."""
    def register(fn: ConsoleContext) -> ConsoleContext:
        _console[name] = Panel(name, template, order, fn)
        return fn
    return register


def for_incident(request: HttpRequest, incident: Incident) -> list[Shown]:
    return _shown(_incident.values(), request, incident)


def for_console(request: HttpRequest) -> list[Shown]:
    return _shown(_console.values(), request)


def _shown(panels: Any, request: HttpRequest, *args: Any) -> list[Shown]:
    shown = []
    for panel in sorted(panels, key=lambda p: (p.order, p.name)):
        context = panel.context(request, *args)
        if context is not None:
            shown.append(Shown(panel.name, panel.template, context))
    return shown
