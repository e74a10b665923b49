"""Panels that the apps above incidents add to the console and to the incident page."""

from __future__ import annotations

from typing import Any

import pytest

from rapidresponse.incidents import panels
from tests.test_console import submit

TEMPLATES_DIR = __import__("pathlib").Path(__file__).parent / "templates"


@pytest.fixture
def test_templates(settings: Any) -> None:
    settings.TEMPLATES = [{**settings.TEMPLATES[0],
                           "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEMPLATES_DIR]}]


def test_registered_panels_show_in_order_and_a_panel_may_decline(
        zone, dispatcher, monkeypatch, test_templates):
    monkeypatch.setattr(panels, "_incident", {})
    monkeypatch.setattr(panels, "_console", {})
    panels.incident_panel("second", "testpanels/panel.html", order=20)(
        lambda request, incident: {"says": f"second about {incident.pk}"})
    panels.incident_panel("first", "testpanels/panel.html", order=10)(
        lambda request, incident: {"says": "first"})
    panels.incident_panel("hidden", "testpanels/panel.html")(lambda request, incident: None)
    panels.console_panel("on-call", "testpanels/panel.html")(
        lambda request: {"says": f"on call for {request.user.username}"})
    incident = submit()
    page = dispatcher.client.get(f"/console/incidents/{incident.pk}/").content.decode()
    assert page.index("first") < page.index(f"second about {incident.pk}")
    assert 'id="panel-hidden"' not in page
    console = dispatcher.client.get("/console/").content.decode()
    assert "on call for disp" in console
