from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from rapidresponse.accounts import secondfactor


class Command(BaseCommand):
    help = ("Print the code a staff member's authenticator app shows now (the demo on a "
            "laptop, without a phone). Refused with RR_ENV=production.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("totp_code is for the embedded demo only: it is refused with "
                               "RR_ENV=production (codes come from the person's own app).")
        user = get_user_model().objects.filter(username=options["username"]).first()
        device = secondfactor.authenticator(user) if user is not None else None
        if device is None:
            raise CommandError(f"{options['username']!r} has no authenticator app set up.")
        self.stdout.write(secondfactor.current_code(device))
