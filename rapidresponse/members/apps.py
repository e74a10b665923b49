from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "rapidresponse.members"
    label = "members"
