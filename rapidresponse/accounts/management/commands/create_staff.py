from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rapidresponse.accounts import provisioning, secondfactor
from rapidresponse.accounts.actions import StaffInput, do_provision_staff
from rapidresponse.accounts.models import Role
from rapidresponse.lib.errors import InvalidInput
from rapidresponse.zones.models import Zone


class Command(BaseCommand):
    help = ("Create (or update) a staff login without prompts. With --totp-secret the "
            "authenticator app is set up already (give the same secret to the person's app); "
            "without it, the person sets one up when first signing in. Other apps add "
            "options of their own (accounts.provisioning): responders add --phone, "
            "--latitude, --longitude and --skill.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", required=True)
        parser.add_argument("--totp-secret", metavar="BASE32",
                            help="the authenticator app's secret (base32, at least 128 bits)")
        parser.add_argument("--zone", action="append", metavar="NAME", dest="zones",
                            help="a zone this person works in, with the zones inside it "
                                 "(repeat for several)")
        wide = parser.add_mutually_exclusive_group()
        wide.add_argument("--network-wide", action="store_const", const=True,
                          dest="network_wide",
                          help="works in every zone, and on what lies outside every zone")
        wide.add_argument("--not-network-wide", action="store_const", const=False,
                          dest="network_wide", help="only the zones given (--zone)")
        parser.add_argument("--on-call", action="store_true",
                            help="verifiers: take verification requests now")
        for extension in provisioning.extensions():
            extension.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username or len(username) > 150:
            raise CommandError("The username must be 1 to 150 characters.")
        if len(options["password"]) < 8:
            raise CommandError("The password must be at least 8 characters.")
        secret = None
        if options["totp_secret"] is not None:
            try:
                secret = secondfactor.parse_secret(options["totp_secret"])
            except ValueError as exc:
                raise CommandError(f"--totp-secret: {exc}.") from exc
        zones = None
        if options["zones"]:
            zones = []
            for name in options["zones"]:
                zone = Zone.objects.filter(name=name.strip()).first()
                if zone is None:
                    known = ", ".join(Zone.objects.order_by("name")
                                      .values_list("name", flat=True)) or "none yet"
                    raise CommandError(f"There is no zone {name!r}. Zones: {known}.")
                zones.append(zone)
        cleaned = []
        for extension in provisioning.extensions():
            try:
                cleaned.append((extension, extension.clean(options)))
            except InvalidInput as exc:
                raise CommandError(" ".join(exc.errors.values())) from exc
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        lines = []
        with transaction.atomic():
            staff, created = do_provision_staff(StaffInput(
                username=username, role=options["role"], password=options["password"],
                on_call=options["on_call"], totp_secret=secret, zones=zones,
                network_wide=options["network_wide"]))
            for extension, data in cleaned:
                if data is None:
                    continue
                try:
                    lines.append(extension.apply(staff, data))
                except InvalidInput as exc:
                    raise CommandError(" ".join(exc.errors.values())) from exc
        verb = "Created" if created else "Updated"
        factor = ("authenticator app set up" if secondfactor.has_second_factor(staff.user)
                  else "sets up the authenticator app at first sign-in")
        if staff.network_wide:
            where = "network-wide"
        else:
            names = list(staff.zones.order_by("name").values_list("name", flat=True))
            where = (f"zones: {', '.join(names)}" if names
                     else "no zone yet: sees nothing until given one")
        self.stdout.write(f"{verb} {options['role']} {username} ({factor}; {where})")
        for line in lines:
            if line:
                self.stdout.write(line)
