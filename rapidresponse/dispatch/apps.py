from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "rapidresponse.dispatch"
    label = "dispatch"

    def ready(self) -> None:
        """Registers the widening job and the retention rules, the incident page's dispatch
        panel and the responder page's "Your dispatches", the SMS answers (YES / NO) and
        commands (HERE / LLEGUÉ, DONE / LISTO), what happens when an incident is over, and
        the names of audit actions."""
        from rapidresponse.accounts import labels
        from rapidresponse.channels.sms import inbound, questions
        from rapidresponse.dispatch import actions, panels, periodic, sms, witnesses
        from rapidresponse.dispatch.messages import DISPATCH_QUESTION, WITNESS_QUESTION
        from rapidresponse.dispatch.models import AUDIT_ACTIONS
        from rapidresponse.incidents.actions import on_close

        assert panels and periodic  # imported for their registrations
        labels.register("incident", actions=AUDIT_ACTIONS)
        questions.topic(DISPATCH_QUESTION)(sms.dispatch_answers)
        questions.topic(WITNESS_QUESTION)(sms.witness_answers)
        inbound.command("here", "llegue", "llegué")(sms.arrived)
        inbound.command("done", "listo")(sms.left)
        on_close("dispatch")(actions.close_for_incident)
        on_close("witnesses")(witnesses.stand_down_witnesses)
