from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "rapidresponse.evidence"
    label = "evidence"

    def ready(self) -> None:
        """Registers the retention rules, the privacy manifest entries and the key rotation
        of evidence, the hold it keeps on its incidents, the incident page's evidence panel
        and the names of its audit actions (the incident's timeline)."""
        from rapidresponse.accounts import labels
        from rapidresponse.evidence import panels, retention
        from rapidresponse.evidence.models import AUDIT_ACTIONS

        assert panels and retention  # imported for their registrations
        labels.register("incident", actions=AUDIT_ACTIONS)
