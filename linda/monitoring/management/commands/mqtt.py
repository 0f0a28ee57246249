"""`linda mqtt`: the MQTT heartbeat consumer (QoS 1, acknowledged after commit)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from linda.monitoring.mqtt import BrokerConfig, MqttIntake


class Command(BaseCommand):
    help = "Consume heartbeats from the MQTT broker (LINDA_MQTT_* settings, docs/devices.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None)
        parser.add_argument("--port", type=int, default=None)
        parser.add_argument("--client-id", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        config = BrokerConfig(
            host=options["host"] or settings.LINDA_MQTT_HOST,
            port=options["port"] or settings.LINDA_MQTT_PORT,
            topic=settings.LINDA_MQTT_TOPIC,
            client_id=options["client_id"] or settings.LINDA_MQTT_CLIENT_ID,
            username=settings.LINDA_MQTT_USERNAME,
            password=settings.LINDA_MQTT_PASSWORD,
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"MQTT intake: {config.topic} on {config.host}:{config.port}")
        MqttIntake(config).run(stop)
