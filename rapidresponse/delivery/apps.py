from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "rapidresponse.delivery"
    label = "delivery"

    def ready(self) -> None:
        from rapidresponse.delivery import tasks

        tasks.register()  # the outbox wakes the workers through the drain task
