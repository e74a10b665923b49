from django.apps import AppConfig


class RespondersConfig(AppConfig):
    name = "rapidresponse.responders"
    label = "responders"

    def ready(self) -> None:
        """Registers the retention rules and privacy manifest entries, the console's and
        the incident page's on-call panel, the verifiers on shift for verification
        requests, create_staff's responder options, and the names of audit actions."""
        from rapidresponse.accounts import labels, provisioning
        from rapidresponse.incidents.actions import verifier_finder
        from rapidresponse.responders import panels, retention, routing
        from rapidresponse.responders import provisioning as responder_options
        from rapidresponse.responders.models import AUDIT_ACTIONS

        assert panels and retention  # imported for their registrations
        verifier_finder("responders")(routing.verifiers_for_incident)
        provisioning.extend_create_staff(
            "responders", add_arguments=responder_options.add_arguments,
            clean=responder_options.clean, apply=responder_options.apply)
        labels.register("staff", actions=AUDIT_ACTIONS)
        labels.register("shiftschedule", actions=AUDIT_ACTIONS)
