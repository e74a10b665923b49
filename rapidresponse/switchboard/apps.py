from django.apps import AppConfig


class SwitchboardConfig(AppConfig):
    name = "rapidresponse.switchboard"
    label = "switchboard"

    def ready(self) -> None:
        """Registers the console's "Voicemails waiting" panel and the incident page's offer
        panel, the routing hooks of new incidents and SMS conversations, the escalation job,
        the retention rules and privacy manifest entries, and the names of audit actions."""
        from rapidresponse.accounts import labels
        from rapidresponse.switchboard import panels, retention, routing
        from rapidresponse.switchboard.models import AUDIT_ACTIONS

        assert panels and retention and routing  # imported for their registrations
        labels.register("voicemail", actions=AUDIT_ACTIONS)
        labels.register("offer", actions=AUDIT_ACTIONS)
