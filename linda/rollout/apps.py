from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "linda.rollout"
    label = "rollout"
