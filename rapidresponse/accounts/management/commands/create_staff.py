from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rapidresponse.accounts.models import Role, Staff


class Command(BaseCommand):
    help = "Create (or update) a staff login without prompts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", required=True)
        parser.add_argument("--on-call", action="store_true",
                            help="verifiers: take verification requests now")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username or len(username) > 150:
            raise CommandError("The username must be 1 to 150 characters.")
        if len(options["password"]) < 8:
            raise CommandError("The password must be at least 8 characters.")
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        user.set_password(options["password"])
        user.is_staff = options["role"] == Role.COORDINATOR
        user.is_superuser = False
        user.save()
        Staff.objects.update_or_create(user=user, defaults={"role": options["role"],
                                                            "on_call": options["on_call"]})
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {options['role']} {username}")
