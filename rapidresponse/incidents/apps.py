from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "rapidresponse.incidents"
    label = "incidents"

    def ready(self) -> None:
        # Registers incident expiry and the retention rules of incidents and reports.
        from rapidresponse.incidents import periodic  # noqa: F401
