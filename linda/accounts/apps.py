from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "linda.accounts"
    label = "accounts"
