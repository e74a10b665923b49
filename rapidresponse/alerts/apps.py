from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "rapidresponse.alerts"
    label = "alerts"

    def ready(self) -> None:
        # Adds the alert to what partner systems receive.
        from rapidresponse.alerts import partners, tasks  # noqa: F401

        tasks.register()  # a big alert's fan-out goes on in the worker (fanout.py)
