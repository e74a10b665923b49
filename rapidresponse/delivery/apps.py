from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "rapidresponse.delivery"
    label = "delivery"

    def ready(self) -> None:
        # Registers the outbox's periodic jobs, warm-up and retention rules.
        from rapidresponse.delivery import periodic, retention  # noqa: F401
