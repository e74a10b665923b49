from typing import Any

from django.core.management.base import BaseCommand

from rapidresponse.jobs.registry import retention_rules
from rapidresponse.jobs.retention import enforce_retention


class Command(BaseCommand):
    help = "Delete or erase personal data that is past its retention period."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--list", action="store_true",
                            help="list the rules (table and what goes when) and change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for rule in retention_rules():
                self.stdout.write(f"{rule.name} ({rule.model}): {rule.rule}")
            return
        for name, n in enforce_retention().items():
            self.stdout.write(f"{name}: {n}")
