"""Why a village went dark, and who answers for it (DESIGN decision 5).

Each outage (a maximal DOWN run from `linda.domain.status.outages`) gets a probable cause with
the facts behind it, read from the heartbeats around it:

- the router's uptime kept counting across the gap → the router had power: **link**;
- the uptime reset (the router rebooted inside the gap) together with a power sign — a
  low-voltage disconnect, a low or falling battery, night on a solar site, PLN off on a
  partial-PLN site, a PLN 24 h site with no battery behind the router — → **power**; a
  low-voltage disconnect or a flat battery is enough on its own when the uptime cannot tell;
- store-and-forward heartbeats from inside the gap prove the router had power (decision 1)
  → **link** when the uptime cannot tell;
- at least `upstream_min_sites` sites of the same vendor going down within a couple of minutes
  of each other → one **upstream** incident (it takes precedence over *link*, never over a
  reboot with a power sign: a grid blackout darkens many villages at once too);
- otherwise **unknown**.

Responsibility follows the contract's terms: link, upstream and unknown are the vendor's (the
vendor runs the service and its monitoring agent; an outage it cannot explain is its own);
power is whoever the terms name (`power_outage_responsibility`).

Pure: no Django, no clock, no I/O. Evidence strings are in Bahasa Indonesia, the language of
the official report, so a report's content does not depend on the reader's language. The
rules in words are in docs/sla.md.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

from linda.domain.status import Span, require_aware

__all__ = [
    "DEFAULT_SETTINGS",
    "WIB",
    "Attribution",
    "AttributionSettings",
    "Beat",
    "Cause",
    "Continuity",
    "Evidence",
    "PlnSupply",
    "Responsibility",
    "SitePower",
    "attribute",
    "concurrent_counts",
    "incident_groups",
    "is_night",
    "responsibility_for",
    "solar_elevation_deg",
]

WIB = ZoneInfo("Asia/Jakarta")
# The sun's centre 0.833° below the horizon: refraction plus the solar radius (sunrise/sunset).
HORIZON_DEG = -0.833


class Cause(enum.StrEnum):
    POWER = "power"
    LINK = "link"
    UPSTREAM = "upstream"
    UNKNOWN = "unknown"


class Responsibility(enum.StrEnum):
    """Who answers for DOWN time (values are `linda.registry.models.Responsibility`)."""

    VENDOR = "vendor"
    REGENCY = "regency"
    FORCE_MAJEURE = "force_majeure"


class Continuity(enum.StrEnum):
    """What the router's uptime counter says about the gap."""

    CONTINUOUS = "continuous"
    RESET = "reset"
    UNKNOWN = "unknown"


class PlnSupply(enum.StrEnum):
    FULL = "24h"
    PARTIAL = "partial"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Beat:
    """One heartbeat as evidence.

    `at` is when the router sent it: the server receive time for a live heartbeat, the
    router's own clock for a late (store-and-forward) one.
    """

    at: datetime
    late: bool = False
    uptime_s: int | None = None
    battery_voltage_v: float | None = None
    battery_soc_pct: float | None = None
    lvd: bool | None = None
    power_source: str | None = None  # "grid" | "solar" | "battery"

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_aware(self.at, "Beat.at"))


@dataclass(frozen=True, slots=True)
class SitePower:
    """How a site is powered. PLN hours are local clock times in `tz` (WIB)."""

    solar: bool = False
    pln: PlnSupply = PlnSupply.FULL
    pln_on_from: time | None = None
    pln_on_until: time | None = None
    latitude: float | None = None
    longitude: float | None = None
    tz: tzinfo = WIB
    # Whether a battery (or solar) carries the router through a PLN cut; None: not known.
    backup: bool | None = None

    def pln_on_at(self, at: datetime) -> bool | None:
        """Whether PLN is scheduled on at `at`; None when the schedule is not known."""
        if self.pln is PlnSupply.FULL:
            return True
        if self.pln is PlnSupply.NONE:
            return False
        if self.pln_on_from is None or self.pln_on_until is None:
            return None
        local = at.astimezone(self.tz).time()
        start, end = self.pln_on_from, self.pln_on_until
        if start <= end:
            return start <= local < end
        return local >= start or local < end  # e.g. 17:00-06:00 crosses midnight


@dataclass(frozen=True, slots=True)
class Evidence:
    """The heartbeats around one outage.

    `before`: the last live heartbeat at or before the outage start. `during`: late
    heartbeats the router wrote inside the outage. `after`: the first live heartbeat at or
    after its end. `recent`: live heartbeats of the hours before, oldest first (the battery
    trend). `concurrent_sites`: other sites of the same vendor whose outages began within the
    upstream window of this one's start.
    """

    before: Beat | None = None
    during: tuple[Beat, ...] = ()
    after: Beat | None = None
    recent: tuple[Beat, ...] = ()
    concurrent_sites: int = 0


@dataclass(frozen=True, slots=True)
class AttributionSettings:
    upstream_min_sites: int = 5  # this site included
    upstream_window: timedelta = timedelta(minutes=2)
    uptime_tolerance_s: int = 60
    low_voltage_v: float = 11.8
    voltage_drop_v: float = 0.3
    low_soc_pct: float = 20.0

    def __post_init__(self) -> None:
        if self.upstream_min_sites < 2:
            raise ValueError("upstream_min_sites must be at least 2")
        if self.upstream_window < timedelta(0):
            raise ValueError("upstream_window must not be negative")
        if self.uptime_tolerance_s < 0:
            raise ValueError("uptime_tolerance_s must not be negative")


DEFAULT_SETTINGS = AttributionSettings()


@dataclass(frozen=True, slots=True)
class Attribution:
    cause: Cause
    evidence: tuple[str, ...]
    continuity: Continuity


def attribute(
    outage: Span,
    evidence: Evidence,
    power: SitePower,
    settings: AttributionSettings = DEFAULT_SETTINGS,
) -> Attribution:
    """The probable cause of one outage and the facts behind it."""
    facts: list[str] = []
    continuity = _uptime_continuity(evidence, settings, facts)
    if evidence.during:
        facts.append(
            f"{len(evidence.during)} heartbeat tertunda (simpan-teruskan) dari dalam gangguan: "
            "router menyala saat tautan putus"
        )
    strong, weak = _power_signs(
        outage, evidence, power, settings, facts,
        router_kept_running=continuity is Continuity.CONTINUOUS,
    )
    sites = 1 + evidence.concurrent_sites
    many = sites >= settings.upstream_min_sites
    if evidence.concurrent_sites:
        window_s = settings.upstream_window // timedelta(seconds=1)
        facts.append(
            f"{sites} situs vendor yang sama mulai putus dalam ±{window_s} detik "
            f"(ambang insiden hulu: {settings.upstream_min_sites})"
        )
    cause = _decide(
        continuity, strong=strong, weak=weak, powered_in_gap=bool(evidence.during), many=many
    )
    return Attribution(cause=cause, evidence=tuple(facts), continuity=continuity)


def _decide(
    continuity: Continuity, *, strong: bool, weak: bool, powered_in_gap: bool, many: bool
) -> Cause:
    """The order of the rules; see the module docstring."""
    router_had_power = continuity is Continuity.CONTINUOUS or (
        continuity is Continuity.UNKNOWN and powered_in_gap and not strong
    )
    if router_had_power:
        return Cause.UPSTREAM if many else Cause.LINK
    power_lost = (continuity is Continuity.RESET and (strong or weak)) or (
        continuity is Continuity.UNKNOWN and strong
    )
    if power_lost:
        return Cause.POWER
    return Cause.UPSTREAM if many else Cause.UNKNOWN


def responsibility_for(
    cause: Cause, *, power_outage_responsibility: Responsibility
) -> Responsibility:
    """Link, upstream and unknown are the vendor's; power is whoever the terms name."""
    if cause is Cause.POWER:
        return Responsibility(power_outage_responsibility)
    return Responsibility.VENDOR


def _secs(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def _uptime_continuity(
    evidence: Evidence, settings: AttributionSettings, facts: list[str]
) -> Continuity:
    """CONTINUOUS if every step from the beat before, through the late beats, to the beat
    after kept the uptime counting (within the tolerance); RESET if any step fell short."""
    before = evidence.before
    if before is None or before.uptime_s is None:
        facts.append("uptime router sebelum gangguan tidak diketahui")
        return Continuity.UNKNOWN
    later = sorted(
        (b for b in (*evidence.during, evidence.after) if b is not None and b.uptime_s is not None),
        key=lambda b: b.at,
    )
    if not later:
        facts.append("uptime router sesudah gangguan tidak diketahui")
        return Continuity.UNKNOWN
    for a, b in pairwise([before, *later]):
        assert a.uptime_s is not None and b.uptime_s is not None
        elapsed_s = (b.at - a.at).total_seconds()
        expected_s = a.uptime_s + elapsed_s
        if b.uptime_s + settings.uptime_tolerance_s < expected_s:
            when = b.at.astimezone(WIB).strftime("%d-%m-%Y %H:%M:%S")
            facts.append(
                f"uptime router direset: {_secs(a.uptime_s)} detik sebelum, {_secs(b.uptime_s)} "
                f"detik pada {when} WIB (seharusnya ±{_secs(expected_s)}): router mati atau "
                "dinyalakan ulang"
            )
            return Continuity.RESET
    last = later[-1]
    assert last.uptime_s is not None
    facts.append(
        f"uptime router terus berjalan: {_secs(before.uptime_s)} → {_secs(last.uptime_s)} detik "
        f"dalam {_secs((last.at - before.at).total_seconds())} detik: router tetap menyala"
    )
    return Continuity.CONTINUOUS


def _power_signs(
    outage: Span,
    evidence: Evidence,
    power: SitePower,
    settings: AttributionSettings,
    facts: list[str],
    *,
    router_kept_running: bool,
) -> tuple[bool, bool]:
    """(strong, weak) power signs, each stated as a fact.

    Strong: a low-voltage disconnect, a battery at or under the low voltage or charge. Weak
    (only with an uptime reset): a falling battery, night on a solar site, PLN off. When the
    uptime shows the router kept running, the schedule-based signs (night, PLN hours) cannot
    change the cause and are not computed.
    """
    strong = weak = False
    around = [b for b in (evidence.before, *evidence.during, evidence.after) if b is not None]
    if any(b.lvd for b in around):
        facts.append("low-voltage disconnect (LVD) tercatat")
        strong = True
    until_dark = [b for b in (*evidence.recent, evidence.before, *evidence.during) if b is not None]
    volts = [b.battery_voltage_v for b in until_dark if b.battery_voltage_v is not None]
    if volts:
        last_v = volts[-1]
        if last_v <= settings.low_voltage_v:
            facts.append(
                f"tegangan baterai rendah: {last_v:.2f} V ≤ {settings.low_voltage_v:.2f} V"
            )
            strong = True
        peak_v = max(volts)
        if peak_v - last_v >= settings.voltage_drop_v:
            facts.append(f"tegangan baterai turun: {peak_v:.2f} V → {last_v:.2f} V")
            weak = True
    socs = [b.battery_soc_pct for b in until_dark if b.battery_soc_pct is not None]
    if socs and socs[-1] <= settings.low_soc_pct:
        facts.append(f"muatan baterai rendah: {socs[-1]:.0f}% ≤ {settings.low_soc_pct:.0f}%")
        strong = True
    if router_kept_running:
        return strong, weak
    on_solar = power.solar and power.pln_on_at(outage.start) is not True
    lat, lon = power.latitude, power.longitude
    if on_solar and lat is not None and lon is not None and is_night(outage.start, lat, lon):
        facts.append("malam hari di situs tenaga surya (matahari di bawah cakrawala)")
        weak = True
    if power.pln is PlnSupply.PARTIAL and power.pln_on_at(outage.start) is False:
        facts.append("di luar jam nyala PLN (situs PLN sebagian)")
        weak = True
    if evidence.before is not None and evidence.before.power_source == "battery":
        facts.append("router berjalan dengan baterai sebelum gangguan")
        weak = True
    if power.pln is PlnSupply.FULL and power.backup is False and not volts and not socs:
        facts.append("situs PLN 24 jam tanpa baterai: router padam setiap kali PLN padam")
        weak = True
    return strong, weak


# --- many sites at once -------------------------------------------------------------------


def concurrent_counts(
    starts: Sequence[tuple[Hashable, datetime]], window: timedelta
) -> list[int]:
    """For each (site, start), how many *other* sites have an outage starting within
    ±`window` of it. O(n log n): one sliding window over the sorted starts."""
    order = sorted(range(len(starts)), key=lambda i: starts[i][1])
    result = [0] * len(starts)
    in_window: Counter[Hashable] = Counter()
    lo = hi = 0
    for i in order:
        key, at = starts[i]
        while hi < len(order) and starts[order[hi]][1] <= at + window:
            in_window[starts[order[hi]][0]] += 1
            hi += 1
        while starts[order[lo]][1] < at - window:
            old = starts[order[lo]][0]
            in_window[old] -= 1
            if not in_window[old]:
                del in_window[old]
            lo += 1
        result[i] = len(in_window) - (1 if key in in_window else 0)
    return result


def incident_groups(starts: Sequence[datetime], window: timedelta) -> list[datetime]:
    """Chain starts that follow each other within `window` into incidents; each start maps to
    its incident's first start (the incident's name)."""
    order = sorted(range(len(starts)), key=lambda i: starts[i])
    result: list[datetime] = list(starts)
    first: datetime | None = None
    previous: datetime | None = None
    for i in order:
        at = starts[i]
        if first is None or previous is None or at - previous > window:
            first = at
        result[i] = first
        previous = at
    return result


# --- the sun ------------------------------------------------------------------------------


def solar_elevation_deg(at: datetime, latitude: float, longitude: float) -> float:
    """The sun's elevation in degrees (NOAA's low-precision formulas; ±0.5° or so)."""
    utc = require_aware(at, "at").astimezone(UTC)
    day_of_year = utc.timetuple().tm_yday
    hours = utc.hour + utc.minute / 60 + (utc.second + utc.microsecond / 1e6) / 3600
    g = 2 * math.pi / 365 * (day_of_year - 1 + (hours - 12) / 24)
    eqtime_min = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    true_solar_min = hours * 60 + eqtime_min + 4 * longitude
    hour_angle = math.radians(true_solar_min / 4 - 180)
    lat = math.radians(latitude)
    cos_zenith = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(
        hour_angle
    )
    return 90 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))


def is_night(at: datetime, latitude: float, longitude: float) -> bool:
    """True between sunset and sunrise at the site."""
    return solar_elevation_deg(at, latitude, longitude) < HORIZON_DEG
