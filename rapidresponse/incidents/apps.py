from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "rapidresponse.incidents"
    label = "incidents"

    def ready(self) -> None:
        """Registers incident expiry and the retention rules of incidents and reports
        (periodic), the names of incident audit actions, and the hotline's handlers: a
        verifier's YES, and any other text as an SMS report; the console's surge panel."""
        from rapidresponse.accounts import labels
        from rapidresponse.channels.sms import inbound, questions
        from rapidresponse.incidents import hotline, panels, periodic, surge
        from rapidresponse.incidents.messages import VERIFY_QUESTION
        from rapidresponse.incidents.models import AUDIT_ACTIONS, State

        assert periodic  # imported for its registrations
        labels.register("incident", actions=AUDIT_ACTIONS, states=dict(State.choices))
        questions.topic(VERIFY_QUESTION)(hotline.verifier_answers)
        inbound.conversation(hotline.converse)
        panels.console_panel("surge", "incidents/_surge_panel.html", order=0)(
            surge.console_context)
