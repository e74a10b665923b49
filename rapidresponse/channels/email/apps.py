from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "rapidresponse.channels.email"
    label = "email_channel"
