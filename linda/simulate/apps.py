from django.apps import AppConfig


class SimulateConfig(AppConfig):
    name = "linda.simulate"
    label = "simulate"
