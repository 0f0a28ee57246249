"""Heartbeat format v1: parse and validate what devices send (no database, no clock).

One table of fields serves the JSON body (`POST /api/v1/heartbeats`, MQTT) and the query
string of `/hb/<key>`; docs/devices.md documents the same table. Every failure is a
`FieldError` naming the field and the reason, which the views turn into a 4xx answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FORMAT_VERSION = 1
MAX_WAN_INTERFACES = 16


class FieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reading:
    """One validated heartbeat; `device_at` is resolved from `device_at` or `age_s`."""

    seq: int | None = None
    device_at: datetime | None = None
    uptime_s: int | None = None
    supply_voltage_v: float | None = None
    battery_voltage_v: float | None = None
    battery_soc_pct: float | None = None
    power_source: str = ""
    lvd: bool | None = None
    temperature_c: float | None = None
    cpu_load_pct: float | None = None
    wan: dict[str, dict[str, int]] | None = None
    hotspot_users: int | None = None
    dhcp_leases: int | None = None
    rtt_ms: float | None = None
    loss_pct: float | None = None
    ignored: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class _Number:
    name: str
    query: str
    lo: float
    hi: float
    integer: bool = False


# JSON name, query parameter, inclusive bounds. Values outside the bounds are absurd (422).
NUMBERS: tuple[_Number, ...] = (
    _Number("seq", "seq", 0, 2**63 - 1, integer=True),
    _Number("uptime_s", "uptime", 0, 100 * 365 * 86400, integer=True),
    _Number("supply_voltage_v", "volt", 0, 100),
    _Number("battery_voltage_v", "batt_v", 0, 100),
    _Number("battery_soc_pct", "soc", 0, 100),
    _Number("temperature_c", "temp", -50, 150),
    _Number("cpu_load_pct", "cpu", 0, 100),
    _Number("hotspot_users", "users", 0, 100_000, integer=True),
    _Number("dhcp_leases", "leases", 0, 100_000, integer=True),
    _Number("rtt_ms", "rtt", 0, 600_000),
    _Number("loss_pct", "loss", 0, 100),
)
POWER_SOURCES = ("grid", "solar", "battery")
_OTHER_JSON = {"v", "device_at", "age_s", "power_source", "lvd", "wan", "key"}
JSON_FIELDS = frozenset({n.name for n in NUMBERS} | _OTHER_JSON)
QUERY_FIELDS = frozenset({n.query for n in NUMBERS} | {"src", "lvd", "t", "age", "rx", "tx"})
_COUNTER_MAX = 2**64 - 1
_AGE_MAX_S = 10 * 365 * 86400


def _number(spec: _Number, raw: Any, name: str) -> int | float:
    if isinstance(raw, bool) or raw is None:
        raise FieldError(name, "must be a number")
    if isinstance(raw, str):
        try:
            value: float = float(raw.strip())
        except ValueError:
            raise FieldError(name, f"must be a number, got {raw[:40]!r}") from None
    elif isinstance(raw, int | float):
        value = raw
    else:
        raise FieldError(name, "must be a number")
    if not math.isfinite(value):
        raise FieldError(name, "must be a finite number")
    if not spec.lo <= value <= spec.hi:
        raise FieldError(name, f"out of range: {value:g} is not within {spec.lo:g}..{spec.hi:g}")
    if spec.integer:
        if value != int(value):
            raise FieldError(name, "must be a whole number")
        return int(value)
    return float(value)


def _boolean(raw: Any, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise FieldError(name, "must be true or false")


def _power_source(raw: Any, name: str) -> str:
    if not isinstance(raw, str) or raw.strip().lower() not in POWER_SOURCES:
        raise FieldError(name, f"must be one of {', '.join(POWER_SOURCES)}")
    return raw.strip().lower()


def _counter(raw: Any, name: str) -> int:
    spec = _Number(name, name, 0, _COUNTER_MAX, integer=True)
    if isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())  # exact, even beyond a float's 53 bits
        if value > _COUNTER_MAX:
            raise FieldError(name, "out of range: larger than a 64-bit counter")
        return value
    return int(_number(spec, raw, name))


def _wan(raw: Any) -> dict[str, dict[str, int]]:
    if not isinstance(raw, dict):
        raise FieldError("wan", 'must be an object like {"ether1": {"rx_bytes": 1, "tx_bytes": 2}}')
    if len(raw) > MAX_WAN_INTERFACES:
        raise FieldError("wan", f"at most {MAX_WAN_INTERFACES} interfaces")
    out: dict[str, dict[str, int]] = {}
    for iface, counters in raw.items():
        if not isinstance(iface, str) or not 0 < len(iface) <= 64:
            raise FieldError("wan", "interface names are 1 to 64 characters")
        if not isinstance(counters, dict) or not set(counters) <= {"rx_bytes", "tx_bytes"}:
            raise FieldError(f"wan.{iface}", "must be an object with rx_bytes and/or tx_bytes")
        out[iface] = {k: _counter(v, f"wan.{iface}.{k}") for k, v in counters.items()}
    return out


def parse_time(raw: Any, name: str) -> datetime:
    """ISO 8601 with an offset, or Unix seconds."""
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except (ValueError, OverflowError, OSError):
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise FieldError(name, "must be ISO 8601 with a UTC offset, or Unix seconds") from None
        if parsed.tzinfo is None:
            raise FieldError(name, "must carry a UTC offset (e.g. 2024-10-15T03:00:00Z)")
        return parsed.astimezone(UTC)
    if isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw):
        try:
            return datetime.fromtimestamp(raw, UTC)
        except (ValueError, OverflowError, OSError):
            raise FieldError(name, "is not a representable time") from None
    raise FieldError(name, "must be ISO 8601 with a UTC offset, or Unix seconds")


def _resolve_time(
    device_raw: Any, age_raw: Any, names: tuple[str, str], *, now: datetime, skew: timedelta
) -> datetime | None:
    device_at: datetime | None = None
    if device_raw is not None:
        device_at = parse_time(device_raw, names[0])
    elif age_raw is not None:
        age = _number(_Number(names[1], names[1], 0, _AGE_MAX_S), age_raw, names[1])
        device_at = now - timedelta(seconds=age)
    if device_at is not None and device_at > now + skew:
        raise FieldError(
            names[0],
            f"in the future beyond the {int(skew.total_seconds())} s clock skew tolerance",
        )
    return device_at


def parse_object(obj: Any, *, now: datetime, skew: timedelta) -> Reading:
    """One JSON heartbeat object (format v1)."""
    if not isinstance(obj, dict):
        raise FieldError("body", "a heartbeat must be a JSON object")
    version = obj.get("v", FORMAT_VERSION)
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise FieldError("v", f"unsupported format version {version!r}; this server speaks 1")
    values: dict[str, Any] = {}
    for spec in NUMBERS:
        if obj.get(spec.name) is not None:
            values[spec.name] = _number(spec, obj[spec.name], spec.name)
    if obj.get("power_source") not in (None, ""):
        values["power_source"] = _power_source(obj["power_source"], "power_source")
    if obj.get("lvd") is not None:
        values["lvd"] = _boolean(obj["lvd"], "lvd")
    if obj.get("wan") is not None:
        values["wan"] = _wan(obj["wan"])
    values["device_at"] = _resolve_time(
        obj.get("device_at"), obj.get("age_s"), ("device_at", "age_s"), now=now, skew=skew
    )
    ignored = tuple(sorted(str(k) for k in obj if k not in JSON_FIELDS))
    return Reading(**values, ignored=ignored)


def parse_query(params: Mapping[str, str], *, now: datetime, skew: timedelta) -> Reading:
    """The query parameters of `/hb/<key>` (short names for routers and wget)."""
    values: dict[str, Any] = {}
    for spec in NUMBERS:
        raw = params.get(spec.query)
        if raw not in (None, ""):
            values[spec.name] = _number(spec, raw, spec.query)
    if params.get("src"):
        values["power_source"] = _power_source(params["src"], "src")
    if params.get("lvd"):
        values["lvd"] = _boolean(params["lvd"], "lvd")
    counters = {
        f"{name}_bytes": _counter(params[name], name)
        for name in ("rx", "tx")
        if params.get(name)
    }
    if counters:
        values["wan"] = {"wan": counters}
    values["device_at"] = _resolve_time(
        params.get("t") or None, params.get("age") or None, ("t", "age"), now=now, skew=skew
    )
    ignored = tuple(sorted(k for k in params if k not in QUERY_FIELDS))
    return Reading(**values, ignored=ignored)


def split_batch(body: Any) -> tuple[list[Any], bool]:
    """The heartbeat objects of a body and whether it was a batch."""
    if isinstance(body, dict) and "heartbeats" in body:
        items = body["heartbeats"]
        if not isinstance(items, list):
            raise FieldError("heartbeats", "must be a list of heartbeat objects")
        version = body.get("v", FORMAT_VERSION)
        if isinstance(version, bool) or version != FORMAT_VERSION:
            raise FieldError("v", f"unsupported format version {version!r}; this server speaks 1")
        return items, True
    if isinstance(body, dict):
        return [body], False
    raise FieldError("body", 'must be a heartbeat object or {"heartbeats": [...]}')
