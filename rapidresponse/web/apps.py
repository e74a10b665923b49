from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "rapidresponse.web"
    label = "web"
