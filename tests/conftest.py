"""Shared fixtures: personas, places and a real SMTP server on loopback.

Staff personas work network-wide (every zone, and outside them) unless a test gives them
zones (tests/test_zones.py has personas of one zone and of another). They sign in the way
people do: password on /login/, then a code from their authenticator app on /login/code/
(computed here from the secret every test staff member's app holds), and they get their API
token from POST /api/v1/auth/token with both factors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import translation
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from rapidresponse.accounts import secondfactor
from rapidresponse.accounts.models import Role, Staff
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

PASSWORD = "correct-horse-1"  # every test staff member's password
# ... and the secret their authenticator app holds (base32, 160 bits).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True, scope="session")
def _private_media(tmp_path_factory: Any) -> Iterator[None]:
    """Evidence files (MEDIA_ROOT) go to a directory of the test session, not var/."""
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


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


def give_authenticator(user: Any, secret: str = TOTP_SECRET) -> TOTPDevice:
    """A confirmed authenticator app holding `secret` (what create_staff --totp-secret does)."""
    return TOTPDevice.objects.create(user=user, name=secondfactor.AUTHENTICATOR, confirmed=True,
                                     key=secondfactor.parse_secret(secret).hex())


def make_staff(username: str, role: str, *, on_call: bool = False,
               at: tuple[float, float] | None = None, phone: str = "",
               second_factor: bool = True, zones: list[Zone] | None = None) -> Staff:
    """A staff member. Without `zones` they work network-wide (as the personas below do);
    with them, in those zones only (tests/test_zones.py)."""
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    staff = Staff.objects.create(user=user, role=role, on_call=on_call,
                                 network_wide=zones is None)
    if zones:
        staff.zones.set(zones)
    if second_factor:
        give_authenticator(user)
    if at is not None:
        staff.member = make_member(username, "en", phone=phone or "+13235550150", at=at,
                                   radius_m=500)
        staff.save()
    return staff


def totp_code(user: Any, step_offset: int = 0) -> str:
    """The code the user's authenticator app shows now (or `step_offset` steps later)."""
    device = secondfactor.authenticator(user)
    assert device is not None, f"{user} has no authenticator app"
    return secondfactor.current_code(device, at=time.time() + step_offset * device.step)


def fresh_code(user: Any) -> str:
    """A code the server has not seen yet. A TOTP code works once: signing in on the web
    and then asking for an API token in the same 30 seconds takes the next step's code,
    which the server's tolerance of one step accepts."""
    device = secondfactor.authenticator(user)
    assert device is not None, f"{user} has no authenticator app"
    now_t = int((time.time() - device.t0) // device.step) + device.drift
    step = max(now_t, device.last_t + 1)
    assert step <= now_t + device.tolerance, "this authenticator was used too often just now"
    return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"


def csrf_data(client: Client, data: dict[str, str]) -> dict[str, str]:
    """`data` with the CSRF token of the client's cookie, for clients that check it."""
    cookie = client.cookies.get(settings.CSRF_COOKIE_NAME)
    return {**data, "csrfmiddlewaretoken": cookie.value} if cookie is not None else data


def sign_in(client: Client, user: Any, password: str = PASSWORD) -> Client:
    """Sign in on the web with both factors: the password, then the authenticator's code."""
    client.get("/login/")
    response = client.post("/login/", csrf_data(client, {"username": user.username,
                                                         "password": password}))
    assert response.status_code == 302, response.content.decode()[:500]
    response = client.post("/login/code/", csrf_data(client, {"code": fresh_code(user)}))
    assert response.status_code == 302 and not response["Location"].startswith("/login"), \
        response.content.decode()[:500]
    return client


def signed_in_client(user: Any) -> Client:
    """A browser of its own, signed in with both factors (an authenticator app is given to
    a staff member made without one)."""
    if secondfactor.authenticator(user) is None:
        give_authenticator(user)
    return sign_in(Client(), user)


def api_token(user: Any, password: str = PASSWORD) -> str:
    """A token from POST /api/v1/auth/token with both factors."""
    response = Client().post("/api/v1/auth/token",
                             {"username": user.username, "password": password,
                              "otp": fresh_code(user)},
                             content_type="application/json")
    assert response.status_code == 200, response.content.decode()
    return str(response.json()["token"])


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


def work_in(staff: Staff, *zones: Zone) -> Staff:
    """The staff member now works in these zones only (not network-wide)."""
    staff.zones.set(zones)
    Staff.objects.filter(pk=staff.pk).update(network_wide=False)
    staff.network_wide = False
    return staff


def persona(username: str, role: str, **kwargs: Any) -> Persona:
    staff = make_staff(username, role, **kwargs)
    client = sign_in(Client(), staff.user)
    return Persona(staff=staff, client=client, token=api_token(staff.user))


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
def newcomer(db: Any) -> Persona:
    """A dispatcher with a password and no second factor yet, who has just given the
    password on /login/: everything is to wait until an authenticator app is set up."""
    staff = make_staff("newbie", Role.DISPATCHER, second_factor=False)
    client = Client()
    response = client.post("/login/", {"username": "newbie", "password": PASSWORD})
    assert response.status_code == 302
    return Persona(staff=staff, client=client, token="")


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
