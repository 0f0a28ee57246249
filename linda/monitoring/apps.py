from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "linda.monitoring"
    label = "monitoring"

    def ready(self) -> None:
        from linda.monitoring import redact

        redact.install()
