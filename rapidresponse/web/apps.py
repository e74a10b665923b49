from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "rapidresponse.web"
    label = "web"

    def ready(self) -> None:
        from rapidresponse.web import checks  # noqa: F401  (registers the deploy checks)
