from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from rapidresponse.web import demo


class Command(BaseCommand):
    help = "Create the fictional Los Angeles demo network (safe to run again)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--members", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        already = demo.is_seeded()
        counts = demo.seed(options["members"])
        verb = "Demo network already present" if already else "Seeded the demo network"
        self.stdout.write(f"{verb}: {counts['zones']} zones, {counts['members']} members.")
        self.stdout.write(f"Staff logins (password '{demo.PASSWORD}'): "
                          + ", ".join(demo.LOGINS))
        self.stdout.write(f"Second factor: add the secret {demo.TOTP_SECRET} to an "
                          "authenticator app (time-based), or print the current code with "
                          "`python manage.py totp_code USERNAME`.")
