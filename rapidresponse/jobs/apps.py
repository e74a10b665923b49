from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Periodic jobs and retention rules: every app registers its own (registry.py); one
    worker runs them (management/commands/worker.py)."""

    name = "rapidresponse.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Registers the retention job and the privacy manifest's system check.
        from rapidresponse.jobs import privacy, retention  # noqa: F401
