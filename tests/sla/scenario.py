"""October 2024 in Barito Utara, built row by row through the monitoring tables.

Every figure the tests expect follows from the facts below by hand (see test_figures.py).
Times are UTC unless they say WIB (UTC+7). October 2024 in WIB is
[2024-09-30 17:00, 2024-10-31 17:00) UTC: 2_678_400 s.

Sites (expected interval I = 1800 s, grace G = 600 s: a gap of more than 2400 s is an outage
from the last beat + 1800 s to the next beat; beats every 30 min), every one in contract K/SLA/2024 of PT
Comtelindo, tiers ≥ 99 % → 0 %, ≥ 97 % → 5 %, ≥ 95 % → 10 %, ≥ 0 → 25 %, Rp 1.500.000 a
month, power outages the regency's:

- coverage: monitor marks every 30 min, max gap 1 h, except that none between Oct 15 00:00
  and 06:00: the monitor was dark for 6 h (UNKNOWN for every site active then, no beats
  stored meanwhile).
- `mtn` (maintenance), Teweh Tengah: active since Sep 28; a maintenance window Oct 10
  02:00-06:00 (its beats kept coming); beats stop after Oct 20 03:00 and resume at 11:30,
  uptime counting through (link).
- `mon` (monitor outage), Teweh Tengah: beats stop after Oct 14 23:00, the monitor goes dark
  at Oct 15 00:00 and is back at 06:00 with the site's next beat (link).
- `part` (partial month), Lahei: activated Oct 11 00:00 WIB (Oct 10 17:00); beats stop after
  Oct 20 00:00 and resume at 10:00 (link).
- `sol` (power, regency's), Lahei: off-grid solar. Two nights the battery runs flat: beats
  stop after Oct 22 20:00 (03:00 WIB) and Oct 23 20:00, resume at 01:00 (08:00 WIB) the next
  morning with the router's uptime reset; the last beats read 11.6 V, 9 %.
- `up1`…`up5` (upstream incident), Gunung Timang: activated Oct 25 00:00 WIB (Oct 24
  17:00); all five stop after Oct 25 05:00 and resume at 18:00, uptime counting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from linda.accounts.models import Role
from linda.monitoring.models import CoverageMark, Heartbeat, PowerSource
from linda.monitoring.services import activate_monitoring, schedule_maintenance
from linda.registry.models import Contract, ContractTerms, PowerProfile, Region, Site, Vendor
from tests.factories import make_user

I_S, G_S = 1800, 600
STEP = timedelta(seconds=I_S)
START = datetime(2024, 9, 28, tzinfo=UTC)
END = datetime(2024, 11, 4, tzinfo=UTC)  # beats and marks run past the 3 evidence days
DARK = (datetime(2024, 10, 15, 0, tzinfo=UTC), datetime(2024, 10, 15, 6, tzinfo=UTC))
NOW = datetime(2024, 11, 10, 3, tzinfo=UTC)
TIERS = [
    {"min_availability_pct": "99", "deduct_pct": "0"},
    {"min_availability_pct": "97", "deduct_pct": "5"},
    {"min_availability_pct": "95", "deduct_pct": "10"},
    {"min_availability_pct": "0", "deduct_pct": "25"},
]
LEMO_II = (Decimal("-0.950000"), Decimal("114.890000"))


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


@dataclass
class SiteSpec:
    code: str
    village: str
    activated_at: datetime
    gaps: list[tuple[datetime, datetime]]  # (last beat before, next beat after)
    reboots: set[datetime] = field(default_factory=set)  # beats at which the uptime reset
    flat_battery: set[datetime] = field(default_factory=set)  # last beats before a power cut
    solar: bool = False


SPECS = [
    SiteSpec("mtn", "62.05.05.2011", utc(9, 28), [(utc(10, 20, 3), utc(10, 20, 11, 30))]),
    SiteSpec("mon", "62.05.05.2012", utc(9, 28), [(utc(10, 14, 23), DARK[1])]),
    SiteSpec("part", "62.05.06.2001", utc(10, 10, 17), [(utc(10, 20), utc(10, 20, 10))]),
    SiteSpec(
        "sol", "62.05.06.2002", utc(9, 28),
        [(utc(10, 22, 20), utc(10, 23, 1)), (utc(10, 23, 20), utc(10, 24, 1))],
        reboots={utc(10, 23, 1), utc(10, 24, 1)},
        flat_battery={utc(10, 22, 20), utc(10, 23, 20)},
        solar=True,
    ),
    *(
        SiteSpec(f"up{n}", f"62.05.02.200{n}", utc(10, 24, 17), [(utc(10, 25, 5), utc(10, 25, 18))])
        for n in range(1, 6)
    ),
]


def beat_times(spec: SiteSpec) -> Iterator[datetime]:
    at = spec.activated_at
    while at < END:
        silent = any(last < at < nxt for last, nxt in spec.gaps) or DARK[0] < at < DARK[1]
        if not silent:
            yield at
        at += STEP


def heartbeats(site: Site, spec: SiteSpec) -> list[Heartbeat]:
    rows = []
    boot = spec.activated_at - timedelta(days=1)
    for at in beat_times(spec):
        if at in spec.reboots:
            boot = at - timedelta(seconds=90)
        flat = at in spec.flat_battery
        rows.append(Heartbeat(
            site=site, received_at=at, device_at=at, channel="api", late=False,
            uptime_s=int((at - boot).total_seconds()),
            battery_voltage_v=(11.6 if flat else 13.1) if spec.solar else None,
            battery_soc_pct=(9.0 if flat else 85.0) if spec.solar else None,
            power_source=(PowerSource.BATTERY if spec.solar else PowerSource.GRID),
        ))
    return rows


def coverage_marks() -> list[CoverageMark]:
    marks, at = [], START - timedelta(days=1)
    while at <= END:
        if not DARK[0] < at < DARK[1]:
            marks.append(CoverageMark(at=at, monitor_id="test"))
        at += timedelta(minutes=30)
    return marks


@dataclass
class October:
    contract: Contract
    vendor: Vendor
    sites: dict[str, Site]


def build_october(*, with_maintenance: bool = True) -> October:
    """Requires the Barito Utara regions (the `barito_utara` fixture)."""
    vendor = Vendor.objects.create(name="PT Comtelindo")
    contract = Contract.objects.create(
        vendor=vendor, number="K/SLA/2024", title="Internet desa 2024",
        starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31),
    )
    ContractTerms.objects.create(
        contract=contract, version=1, effective_from=dt.date(2024, 1, 1),
        monthly_fee_idr=1_500_000, sla_target_pct=Decimal("99"),
        power_outage_responsibility="regency", restitution_kind="tiered",
        restitution_tiers=TIERS,
    )
    sites: dict[str, Site] = {}
    rows: list[Heartbeat] = []
    for spec in SPECS:
        village = Region.objects.get(code=spec.village)
        site = Site.objects.create(
            code=spec.code, village=village, expected_interval_s=I_S, grace_s=G_S,
            latitude=LEMO_II[0], longitude=LEMO_II[1],
            power_profile=PowerProfile.OFF_GRID if spec.solar else PowerProfile.PLN_24H,
            solar_pv_wp=400 if spec.solar else None, battery_wh=1200 if spec.solar else None,
        )
        activate_monitoring(site=site, at=spec.activated_at)
        rows.extend(heartbeats(site, spec))
        sites[spec.code] = site
    contract.sites.set(sites.values())
    Heartbeat.objects.bulk_create(rows, batch_size=2000)
    CoverageMark.objects.bulk_create(coverage_marks(), batch_size=2000)
    if with_maintenance:
        schedule_maintenance(
            start=utc(10, 10, 2), end=utc(10, 10, 6), reason="Penggantian modem VSAT",
            author=make_user("noc", Role.OPERATOR), site=sites["mtn"],
        )
    return October(contract=contract, vendor=vendor, sites=sites)
