from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "linda.sla"
    label = "sla"
