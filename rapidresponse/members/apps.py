from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "rapidresponse.members"
    label = "members"

    def ready(self) -> None:
        # Registers members' retention rules.
        from rapidresponse.members import retention  # noqa: F401
