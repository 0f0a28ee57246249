from django.apps import AppConfig


class EnergyConfig(AppConfig):
    name = "linda.energy"
    label = "energy"
