from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "linda.web"
    label = "web"
