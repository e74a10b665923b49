from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "rapidresponse.delivery"
    label = "delivery"
