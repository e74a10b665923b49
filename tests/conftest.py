"""Shared fixtures: personas, places and a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from rapidresponse.accounts.models import Role, Staff
from rapidresponse.accounts.tokens import do_issue_token
from rapidresponse.delivery import outbox
from rapidresponse.lib import geo
from rapidresponse.members.actions import MemberInput, do_create_member, place_from_point
from rapidresponse.members.contacts import normalise
from rapidresponse.members.models import Member
from rapidresponse.zones.models import Zone, ZoneCell
from tests.codes_support import inbox  # noqa: F401  (a fixture: codes as the demo shows them)

# Boyle Heights, Los Angeles, and places at known distances from it.
BOYLE = (34.0339, -118.2036)
NEAR = (34.0345, -118.2050)  # a few hundred metres away
FAR = (34.1867, -118.4490)  # Van Nuys, about 30 km away


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in Spanish leaves Spanish active in the thread: start each test in English."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def zone(db: Any) -> Zone:
    z = Zone.objects.create(name="Boyle Heights")
    center = geo.cell_for(*BOYLE, 8)
    ZoneCell.objects.bulk_create([ZoneCell(zone=z, cell=c) for c in geo.disk(center, 3)])
    return z


def make_member(name: str, language: str, phone: str = "", email: str = "",
                at: tuple[float, float] = NEAR, radius_m: int = 1000,
                channels: list[str] | None = None) -> Member:
    contacts = {}
    if phone:
        contacts["sms"] = normalise("sms", phone)
    if email:
        contacts["email"] = normalise("email", email)
    return do_create_member(
        MemberInput(name=name, language=language, contacts=contacts,
                    channels=channels or list(contacts),
                    places=[place_from_point(at[0], at[1], radius_m)]),
        source="import")


def make_staff(username: str, role: str, *, on_call: bool = False,
               at: tuple[float, float] | None = None, phone: str = "") -> Staff:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username=username, password="correct-horse-1")
    staff = Staff.objects.create(user=user, role=role, on_call=on_call)
    if at is not None:
        staff.member = make_member(username, "en", phone=phone or "+13235550150", at=at,
                                   radius_m=500)
        staff.save()
    return staff


@dataclass
class Persona:
    staff: Staff
    client: Client
    token: str

    @property
    def user(self) -> Any:
        return self.staff.user

    def api(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}


def persona(username: str, role: str, **kwargs: Any) -> Persona:
    staff = make_staff(username, role, **kwargs)
    client = Client()
    client.force_login(staff.user)
    token, _ = do_issue_token(staff.user)
    return Persona(staff=staff, client=client, token=token)


@pytest.fixture
def coordinator(db: Any) -> Persona:
    return persona("coord", Role.COORDINATOR)


@pytest.fixture
def dispatcher(db: Any) -> Persona:
    return persona("disp", Role.DISPATCHER)


@pytest.fixture
def verifier(db: Any) -> Persona:
    return persona("veri", Role.VERIFIER, on_call=True, at=BOYLE, phone="+13235550151")


@pytest.fixture
def outsider(db: Any) -> Client:
    """Someone with no account at all: must see nothing private."""
    return Client()


@pytest.fixture
def deliver() -> Any:
    """Run the worker's delivery loop until the outbox is empty (what `worker` does)."""
    return outbox.drain


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real SMTP server on loopback that keeps what it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    # aiosmtpd cannot start on port 0 (it connects to itself to check): pick a free port.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    controller.received = received  # type: ignore[attr-defined]
    try:
        yield controller
    finally:
        controller.stop()
