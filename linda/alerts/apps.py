from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "linda.alerts"
    label = "alerts"
