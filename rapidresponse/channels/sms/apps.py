from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "rapidresponse.channels.sms"
    label = "sms"
