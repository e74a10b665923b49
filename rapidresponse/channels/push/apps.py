from django.apps import AppConfig


class PushConfig(AppConfig):
    """Web push, the installable web app, and the sign-in codes of the member settings page."""

    name = "rapidresponse.channels.push"
    label = "push"

    def ready(self) -> None:
        from rapidresponse.channels.push import checks  # noqa: F401  (registers the checks)
