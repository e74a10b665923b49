from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rapidresponse.members.actions import import_members_csv


class Command(BaseCommand):
    help = ("Import members from a CSV file with columns name, phone, email, language, "
            "latitude, longitude, radius_m, channels (sms;signal;email) and, optionally, "
            "tags (names separated by ;), "
            "signal (a Signal number that is not the phone). Bad rows are reported by line; "
            "every good row is kept.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {path}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text") from exc
        result = import_members_csv(text)
        self.stdout.write(f"Imported {len(result.created)} members from {path}")
        for line, reason in result.errors:
            self.stderr.write(f"line {line}: {reason}")
        if result.errors:
            self.stderr.write(f"{len(result.errors)} rows were not imported")
            sys.exit(1)
