from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rapidresponse.accounts import audit
from rapidresponse.channels.webhook.partners import do_add_partner
from rapidresponse.members.models import language_codes
from rapidresponse.zones.models import Zone


class Command(BaseCommand):
    help = ("Add a partner system that receives alerts as signed JSON (the webhook channel). "
            "The address must be https:// (plain http only to this machine). The signing "
            "secret is shown once; partners verify requests as the README describes.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="the partner's name, e.g. 'Legal Aid Hotline'")
        parser.add_argument("--url", required=True, help="the partner's endpoint")
        parser.add_argument("--secret", default="",
                            help="signing secret (at least 16 characters; default: generated)")
        parser.add_argument("--zone", action="append", default=[],
                            help="a zone whose alerts the partner receives (repeatable; "
                                 "default: every zone)")
        parser.add_argument("--language", default="en", choices=language_codes())

    def handle(self, *args: Any, **options: Any) -> None:
        zones = []
        for name in options["zone"]:
            zone = Zone.objects.filter(name=name).first()
            if zone is None:
                raise CommandError(f"There is no zone called {name!r}.")
            zones.append(zone)
        try:
            partner, secret = do_add_partner(options["name"], options["url"],
                                             secret=options["secret"], zones=zones,
                                             language=options["language"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        audit.record(None, "partner_added", partner, zones=[z.name for z in zones] or "all")
        self.stdout.write(f"Added partner {partner.name} (member {partner.pk}).")
        if not options["secret"]:
            self.stdout.write(f"Signing secret (shown once, give it to the partner): {secret}")
