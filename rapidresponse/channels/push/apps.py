from django.apps import AppConfig


class PushConfig(AppConfig):
    """Web push, the installable web app, and the sign-in codes of the member settings page."""

    name = "rapidresponse.channels.push"
    label = "push"

    def ready(self) -> None:
        # Registers the system checks and the retention rules of web push.
        from rapidresponse.channels.push import checks, retention  # noqa: F401
