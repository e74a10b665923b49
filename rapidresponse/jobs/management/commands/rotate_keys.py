from typing import Any

from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rapidresponse.jobs.registry import key_rotations, manifest
from rapidresponse.lib import crypto


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted field (the privacy manifest's `encrypted` fields) with "
            "the first key of FIELD_ENCRYPTION_KEY. To change the key: put a new key first, "
            "keep the old one after it (FIELD_ENCRYPTION_KEY=new,old), run this, then remove "
            "the old key. Files kept under keys of their own (EVIDENCE_ENCRYPTION_KEY) are "
            "re-encrypted with the first of theirs the same way. --new-key prints a fresh key "
            "(for either setting) and changes nothing.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--new-key", action="store_true",
                            help="print a new key to put first in FIELD_ENCRYPTION_KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(Fernet.generate_key().decode())
            return
        total = 0
        for entry in manifest():
            model = apps.get_model(entry.model)
            for name in entry.encrypted:
                done = self._rotate(model, name)
                total += done
                self.stdout.write(f"{entry.model}.{name}: {done} re-encrypted")
        for name, rotate in key_rotations().items():
            done = rotate()
            total += done
            self.stdout.write(f"{name}: {done} re-encrypted")
        self.stdout.write(f"{total} values re-encrypted with the first key")

    def _rotate(self, model: Any, name: str) -> int:
        done = 0
        rows = model._default_manager.exclude(**{name: ""}).values_list("pk", name)
        for pk, value in rows.iterator(chunk_size=2000):
            try:
                fresh = crypto.rotate(value)
            except ValueError as exc:
                raise CommandError(
                    f"{model._meta.label}.{name} of row {pk}: {exc}. Keep every key the data "
                    "was written with in FIELD_ENCRYPTION_KEY.") from exc
            with transaction.atomic():
                # Only if nobody changed it meanwhile.
                done += model._default_manager.filter(pk=pk, **{name: value}).update(
                    **{name: fresh})
        return done
