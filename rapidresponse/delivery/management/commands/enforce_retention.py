from typing import Any

from django.core.management.base import BaseCommand

from rapidresponse.web.retention import enforce_retention


class Command(BaseCommand):
    help = "Delete or erase personal data that is past its retention period."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, n in enforce_retention().items():
            self.stdout.write(f"{name}: {n}")
