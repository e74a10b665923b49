from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "rapidresponse.support"
    label = "support"

    def ready(self) -> None:
        """Registers the incident page's detention panel, the reminder job, the retention
        rules and privacy manifest entries, and the names of audit actions."""
        from rapidresponse.accounts import labels
        from rapidresponse.support import panels, periodic
        from rapidresponse.support.models import AUDIT_ACTIONS

        assert panels and periodic  # imported for their registrations
        labels.register("supportcase", actions=AUDIT_ACTIONS)
        labels.register("detention", actions=AUDIT_ACTIONS)
