from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "linda.registry"
    label = "registry"
