from django.apps import AppConfig


class WebhookConfig(AppConfig):
    """Partner systems that receive alerts as signed JSON (its command: add_partner)."""

    name = "rapidresponse.channels.webhook"
    label = "webhook"
