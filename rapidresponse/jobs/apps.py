from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Periodic jobs and retention rules: every app registers its own (registry.py); one
    worker runs them (management/commands/worker.py)."""

    name = "rapidresponse.jobs"
    label = "jobs"

    def ready(self) -> None:
        from rapidresponse.jobs import retention  # noqa: F401  (registers the retention job)
