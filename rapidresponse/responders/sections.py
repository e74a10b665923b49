"""What the apps above responders add to a responder's own page (/responder/): dispatch
adds "Your dispatches" with its buttons. Each registers a section when it is ready;
responders renders them first, in order, and never imports those apps.

A section is a template and a function that gives its context for the request and the
signed-in staff member, or None to show nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from rapidresponse.accounts.models import Staff
from rapidresponse.incidents.panels import Panel, Shown

SectionContext = Callable[[HttpRequest, Staff], "dict[str, Any] | None"]
_sections: dict[str, Panel] = {}


def phone_section(name: str, template: str, *, order: int = 50
                  ) -> Callable[[SectionContext], SectionContext]:
    """Register a section of the responder's page (a decorator of its context function)."""
    def register(fn: SectionContext) -> SectionContext:
        _sections[name] = Panel(name, template, order, fn)
        return fn
    return register


def for_staff(request: HttpRequest, staff: Staff) -> list[Shown]:
    shown = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.name)):
        context = section.context(request, staff)
        if context is not None:
            shown.append(Shown(section.name, section.template, context))
    return shown
