from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "rapidresponse.alerts"
    label = "alerts"

    def ready(self) -> None:
        # Adds the alert to what partner systems receive.
        from rapidresponse.alerts import partners  # noqa: F401
