from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "rapidresponse.incidents"
    label = "incidents"
