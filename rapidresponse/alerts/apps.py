from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "rapidresponse.alerts"
    label = "alerts"
