from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rapidresponse.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the retention rules of staff tokens and the audit log.
        from rapidresponse.accounts import retention  # noqa: F401
