from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rapidresponse.accounts"
    label = "accounts"
