"""The intake pipeline shared by the HTTP views and the MQTT consumer:
bytes → JSON → validated readings → one committed transaction → an answer naming every problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from linda.monitoring.models import Channel
from linda.monitoring.payload import FieldError, Reading, parse_object, split_batch
from linda.monitoring.services import BatchResult, record_batch


@dataclass
class IngestResult:
    """What the server did with one request: an HTTP status and a JSON-able body."""

    status: int
    accepted: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    error: tuple[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def body(self) -> dict[str, Any]:
        if self.error is not None:
            return {"error": self.error[1], "field": self.error[0], "reason": self.error[1]}
        out: dict[str, Any] = {
            "v": 1, "accepted": self.accepted, "duplicates": self.duplicates,
            "late": self.late, "rejected": self.rejected,
        }
        if self.ignored:
            out["ignored"] = self.ignored
        return out


def failure(status: int, field_name: str, reason: str) -> IngestResult:
    return IngestResult(status=status, error=(field_name, reason))


def skew() -> timedelta:
    return timedelta(seconds=settings.LINDA_HB_FUTURE_SKEW_S)


def decode_json(data: bytes) -> Any:
    """Parse a body; FieldError('body', …) if it is not JSON."""
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=no_constants)
    except UnicodeDecodeError:
        raise FieldError("body", "malformed JSON: not UTF-8") from None
    except ValueError as exc:
        raise FieldError("body", f"malformed JSON: {exc}") from None


def ingest_body(*, site_id: int, data: bytes, channel: Channel, now: datetime) -> IngestResult:
    try:
        body = decode_json(data)
    except FieldError as exc:
        return failure(400, exc.field, exc.reason)
    return ingest_json(site_id=site_id, body=body, channel=channel, now=now)


@dataclass
class Prepared:
    """A body's valid readings and its rejected items, before anything is stored."""

    readings: list[Reading]
    rejected: list[dict[str, Any]]
    ignored: list[str]

    def finish(self, stored: BatchResult) -> IngestResult:
        return IngestResult(
            status=422 if self.rejected else 200, accepted=stored.accepted,
            duplicates=stored.duplicates, late=stored.late, rejected=self.rejected,
            ignored=self.ignored,
        )


def prepare_json(body: Any, *, now: datetime) -> Prepared | IngestResult:
    """Validate one heartbeat or a batch: the valid readings, or the answer refusing it all."""
    try:
        items, is_batch = split_batch(body)
    except FieldError as exc:
        return failure(422 if exc.field == "v" else 400, exc.field, exc.reason)
    if len(items) > settings.LINDA_HB_MAX_BATCH:
        return failure(413, "heartbeats",
                       f"too many heartbeats: {len(items)} > {settings.LINDA_HB_MAX_BATCH}")
    if not items:
        return failure(422, "heartbeats", "must hold at least one heartbeat")
    readings: list[Reading] = []
    rejected: list[dict[str, Any]] = []
    ignored: set[str] = set()
    for index, item in enumerate(items):
        try:
            reading = parse_object(item, now=now, skew=skew())
        except FieldError as exc:
            if not is_batch:
                return failure(400 if exc.field == "body" else 422, exc.field, exc.reason)
            rejected.append({"index": index, "field": exc.field, "reason": exc.reason})
            continue
        readings.append(reading)
        ignored.update(reading.ignored)
    return Prepared(readings, rejected, sorted(ignored))


def ingest_json(*, site_id: int, body: Any, channel: Channel, now: datetime) -> IngestResult:
    """Validate one heartbeat or a batch and store the valid ones (all in one transaction).

    200 when everything was stored; 422 when some items were rejected (the valid ones are
    stored all the same, and the answer lists both); 400/413/422 for a body that is unusable
    as a whole.
    """
    prepared = prepare_json(body, now=now)
    if isinstance(prepared, IngestResult):
        return prepared
    stored = (
        record_batch(site_id=site_id, readings=prepared.readings, channel=channel, now=now)
        if prepared.readings else BatchResult()
    )
    return prepared.finish(stored)
