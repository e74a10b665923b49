from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "rapidresponse.incidents"
    label = "incidents"

    def ready(self) -> None:
        from rapidresponse.accounts import labels

        # Registers incident expiry and the retention rules of incidents and reports.
        from rapidresponse.incidents import periodic  # noqa: F401
        from rapidresponse.incidents.models import AUDIT_ACTIONS, State

        labels.register("incident", actions=AUDIT_ACTIONS, states=dict(State.choices))
