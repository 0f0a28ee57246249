from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "linda.audit"
    label = "audit"
