from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from rapidresponse.web import periodic


class Command(BaseCommand):
    help = ("Run the background worker: the task queue (deliveries) plus the periodic jobs "
            "(retries, stale-claim sweep, incident expiry, retention).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.2,
                            help="seconds between polls of the task queue")

    def handle(self, *args: Any, **options: Any) -> None:
        periodic.start_in_background()
        if settings.TASKS_BACKEND != "database":
            self.stdout.write("TASKS_BACKEND is not 'database': running periodic jobs only")
            import threading

            threading.Event().wait()
        call_command("db_worker", interval=options["interval"], reload=False,
                     startup_delay=False, verbosity=options.get("verbosity", 1))
