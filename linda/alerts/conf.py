"""Alert settings, read when used (never at import): a Django setting of the same name wins,
then the environment variable, then the default. Every name is listed in docs/alerts.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from config.env import env_int, env_str
from linda.domain.alerting import GroupingPolicy

DEFAULTS_S = {
    "LINDA_ALERT_PERIOD_S": 5,  # worker pass period
    "LINDA_ALERT_HOLD_S": 120,  # a DOWN waits this long for others before it is told alone
    "LINDA_ALERT_GROUP_WINDOW_S": 120,  # downs this close belong together
    "LINDA_ALERT_UPDATE_EVERY_S": 300,  # at most one "incident grew" message per channel
    "LINDA_ALERT_FLAP_WINDOW_S": 900,  # M
    "LINDA_ALERT_FLAP_STABLE_S": 900,  # quiet time that ends flapping
    "LINDA_ALERT_MONITOR_GAP_S": 60,  # a coverage gap longer than this is told to the NOC
    "LINDA_ALERT_CLAIM_LEASE_S": 120,  # a claim older than this belongs to a dead worker
    "LINDA_ALERT_RETRY_BASE_S": 30,
    "LINDA_ALERT_RETRY_MAX_S": 3600,
    "LINDA_ALERT_POWER_RISK_EVERY_S": 900,  # batteries are forecast at most this often
}
DEFAULT_COUNTS = {
    "LINDA_ALERT_GROUP_MIN_SITES": 5,
    "LINDA_ALERT_MONITOR_SUSPECT_PCT": 50,  # X: this share of all sites quiet at once
    "LINDA_ALERT_FLAP_FLIPS": 4,  # K: more changes than this within M is flapping
    "LINDA_ALERT_MAX_ATTEMPTS": 8,
    "LINDA_ALERT_SUMMARY_HOUR": 7,  # WIB hour from which yesterday's summary is sent
    "LINDA_ALERT_POWER_RISK_FROM_HOUR": 17,  # WIB hour the evening's battery forecasts start
    "LINDA_ALERT_SUNRISE_HOUR": 6,  # WIB hour a battery must last until
}


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    return int(value) if value is not None else env_int(name, default)


def seconds(name: str) -> timedelta:
    return timedelta(seconds=_int(name, DEFAULTS_S[name]))


def count(name: str) -> int:
    return _int(name, DEFAULT_COUNTS[name])


def public_url() -> str:
    return str(getattr(settings, "LINDA_PUBLIC_URL", None) or env_str(
        "LINDA_PUBLIC_URL", "http://127.0.0.1:8000")).rstrip("/")


@dataclass(frozen=True, slots=True)
class FlapPolicy:
    window: timedelta
    max_flips: int
    stable_for: timedelta


def grouping_policy() -> GroupingPolicy:
    return GroupingPolicy(
        window=seconds("LINDA_ALERT_GROUP_WINDOW_S"),
        min_sites=count("LINDA_ALERT_GROUP_MIN_SITES"),
        suspect_pct=float(count("LINDA_ALERT_MONITOR_SUSPECT_PCT")),
    )


def flap_policy() -> FlapPolicy:
    return FlapPolicy(
        window=seconds("LINDA_ALERT_FLAP_WINDOW_S"),
        max_flips=count("LINDA_ALERT_FLAP_FLIPS"),
        stable_for=seconds("LINDA_ALERT_FLAP_STABLE_S"),
    )
