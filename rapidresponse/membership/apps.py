from django.apps import AppConfig


class MembershipConfig(AppConfig):
    """Joining, confirming and leaving, a member's own settings page (/me/), and the
    coordinator's members page: what members do with codes and links sent through the
    outbox, on top of the members app."""

    name = "rapidresponse.membership"
    label = "membership"
