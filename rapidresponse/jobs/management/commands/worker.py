from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from django.urls import get_resolver

from rapidresponse.jobs import runner
from rapidresponse.jobs.registry import warm_ups


def warm_up() -> None:
    """Load what the first job needs before it is urgent: what each app registered
    (registry.warm_up: every channel's backend, say) and the URL map that links in messages
    are made from."""
    for load in warm_ups():
        load()
    get_resolver().reverse_dict  # noqa: B018 - builds the reverse look-up table now


class Command(BaseCommand):
    help = ("Run the background worker: the task queue (deliveries) plus the periodic jobs "
            "(retries, stale-claim sweep, reconciling lost sends, incident expiry, retention). "
            "Start as many as you like, on as many machines as share the database (and, with "
            "REDIS_URL, Redis).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.2,
                            help="seconds between polls of the task queue (database backend)")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options.get("verbosity", 1)
        warm_up()
        runner.start_in_background()
        if settings.TASKS_BACKEND == "rq":
            self.run_rq(verbosity)
        elif settings.TASKS_BACKEND == "database":
            call_command("db_worker", interval=options["interval"], reload=False,
                         startup_delay=False, verbosity=verbosity)
        else:
            self.stdout.write(f"TASKS_BACKEND is {settings.TASKS_BACKEND!r}: "
                              "running periodic jobs only")
            threading.Event().wait()

    def run_rq(self, verbosity: int) -> None:
        """An RQ worker on the task queues. Jobs run in this process (no fork per job): a
        drain is long and cheap to start, and a forked child must not share the periodic
        thread's database connections."""
        import django_rq
        from django_tasks_rq import Job
        from rq import SimpleWorker

        worker = django_rq.get_worker(*settings.TASKS["default"].get("QUEUES", ["default"]),
                                      job_class=Job,
                                      worker_class=SimpleWorker)  # type: ignore[arg-type]
        connections.close_all()
        level = "DEBUG" if verbosity >= 2 else "WARNING" if verbosity == 0 else "INFO"
        worker.work(with_scheduler=False, logging_level=level)
