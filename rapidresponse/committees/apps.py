from django.apps import AppConfig


class CommitteesConfig(AppConfig):
    name = "rapidresponse.committees"
    label = "committees"

    def ready(self) -> None:
        """Registers the SMS commands (JOIN / UNIRME <code>, PLAN), the captains' reminder
        when an alert is sent, the retention rules and privacy manifest entries, and the
        names of audit actions."""
        from rapidresponse.accounts import labels
        from rapidresponse.alerts.actions import on_alert_sent
        from rapidresponse.channels.sms import inbound
        from rapidresponse.committees import messages, periodic, sms
        from rapidresponse.committees.models import AUDIT_ACTIONS

        assert periodic  # imported for its registrations
        labels.register("committee", actions=AUDIT_ACTIONS)
        inbound.command("join", "unirme", "unir", argument=True)(sms.join)
        inbound.command("plan")(sms.plan)
        on_alert_sent("committee_captains")(messages.remind_captains)
