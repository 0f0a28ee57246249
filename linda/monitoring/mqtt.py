"""MQTT intake: `linda/<site-code>/hb`, the JSON v1 payload with the site's key in `key`.

Subscribed at QoS 1 with manual acknowledgement: a message is acknowledged to the broker only
after its heartbeats are committed (or after it is rejected for good, so a bad message is not
redelivered for ever). If the database fails, the message stays unacknowledged and the client
reconnects, so the broker, holding a persistent session, delivers it again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from django.db import DatabaseError, connection
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from linda.monitoring.intake import IngestResult, decode_json, failure, ingest_json
from linda.monitoring.models import Channel
from linda.monitoring.payload import FieldError
from linda.monitoring.services import KeyRejected, authenticate_key
from linda.registry.models import Site

log = logging.getLogger("linda.mqtt")


def site_code_of(topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == "linda" and parts[2] == "hb" and parts[1]:
        return parts[1]
    return None


def handle_message(topic: str, payload: bytes) -> IngestResult:
    """Authenticate and store one MQTT message. Raises DatabaseError if nothing was stored."""
    code = site_code_of(topic)
    if code is None:
        return failure(400, "topic", "expected linda/<site-code>/hb")
    try:
        body = decode_json(payload)
    except FieldError as exc:
        return failure(400, exc.field, exc.reason)
    key = body.pop("key", None) if isinstance(body, dict) else None
    if not isinstance(key, str) or not key:
        return failure(401, "key", "the payload must carry the site's key in 'key'")
    try:
        site_id = authenticate_key(key)
    except KeyRejected as exc:
        return failure(exc.status, "key", exc.reason)
    if not Site.objects.filter(pk=site_id, code=code).exists():
        return failure(403, "topic", f"the key does not belong to site {code!r}")
    return ingest_json(site_id=site_id, body=body, channel=Channel.MQTT, now=timezone.now())


@dataclass(frozen=True)
class BrokerConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    topic: str = "linda/+/hb"
    client_id: str = "linda-intake"
    username: str = ""
    password: str = ""
    persistent: bool = True  # keep the session (and unacknowledged messages) across restarts


class MqttIntake:
    """One consumer connection; `run(stop)` blocks until `stop` is set."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.stored = 0
        self.rejected = 0
        self.connected = threading.Event()
        self._reconnect = False
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=config.client_id,
            clean_session=not config.persistent, protocol=paho.MQTTv311,
        )
        if config.username:
            self.client.username_pw_set(config.username, config.password or None)
        self.client.manual_ack_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the connection: %s", reason)
            return
        client.subscribe(self.config.topic, qos=1)
        self.connected.set()
        log.info("MQTT intake subscribed to %s on %s:%s", self.config.topic, self.config.host,
                 self.config.port)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self.connected.clear()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            result = handle_message(message.topic, bytes(message.payload))
        except DatabaseError:
            log.exception("database error; message %s left unacknowledged for redelivery",
                          message.mid)
            connection.close()
            self._reconnect = True
            return
        if result.ok:
            self.stored += 1
        else:
            self.rejected += 1
            log.warning("rejected MQTT heartbeat on %s: %s", message.topic, result.body())
        client.ack(message.mid, message.qos)

    def run(self, stop: threading.Event, backoff_s: float = 2.0) -> None:
        try:
            while not stop.is_set():
                self._reconnect = False
                try:
                    self.client.connect(self.config.host, self.config.port, keepalive=30)
                except OSError as exc:
                    log.error("cannot reach the MQTT broker %s:%s: %s", self.config.host,
                              self.config.port, exc)
                    stop.wait(backoff_s)
                    continue
                while not stop.is_set() and not self._reconnect:
                    if self.client.loop(timeout=0.2) != paho.MQTT_ERR_SUCCESS:
                        break
                self.client.disconnect()
                self.connected.clear()
                if not stop.is_set():
                    stop.wait(backoff_s)
        finally:
            connection.close()
