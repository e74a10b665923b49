from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "rapidresponse.channels.sms"
    label = "sms"

    def ready(self) -> None:
        # Registers the SMS channel's retention rules.
        from rapidresponse.channels.sms import retention  # noqa: F401
