"""Metrics benchmark: `site_metrics` for one site over 1 day / 30 days / 1 year in a fleet, and
one five-minute roll-up run for the whole fleet.

    .venv/bin/python bench/metrics.py [--sites 10000] [--history-sites 200] [--runs 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linda_bench .venv/bin/python bench/metrics.py

Builds a scratch database (a temporary SQLite file unless DATABASE_URL is set; created and
dropped by the script). The measured site has what a site has after a year: 30 days of raw
heartbeats at one a minute, 400 days of five-minute and hourly roll-ups. `--history-sites`
other sites get a day of raw heartbeats, three days of five-minute and 30 days of hourly
roll-ups, so the tables are not the measured site's alone; every site of the fleet then sends
five minutes of heartbeats and one roll-up run is timed, as the monitor does it every
LINDA_ROLLUP_EVERY_S. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scratch import scratch_database  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MINUTE = timedelta(minutes=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--history-sites", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with scratch_database("linda_bench_metrics"):
        from django.db import connection

        print(f"database: {connection.vendor}")
        now, site_id = fill(args.sites, args.history_sites)
        measure(site_id, now, args.runs)
        roll_fleet(now)


def _stats(i: int) -> dict[str, Any]:
    rtt = 600.0 + (i * 37) % 200
    return {"count": 5, "rtt_n": 5, "rtt_min_ms": rtt - 50, "rtt_avg_ms": rtt,
            "rtt_max_ms": rtt + 80, "loss_n": 5, "loss_avg_pct": (i % 7) * 0.5,
            "loss_max_pct": (i % 7) * 1.0, "battery_n": 5, "battery_min_v": 12.1,
            "battery_avg_v": 12.6, "soc_n": 5, "battery_soc_min_pct": 70.0,
            "battery_soc_avg_pct": 75.0, "rx_bytes": 3_000_000, "tx_bytes": 400_000,
            "wan_span_s": 300.0, "hotspot_users_max": i % 20}


def fill(n_sites: int, history_sites: int) -> tuple[datetime, int]:
    from django.utils import timezone

    from linda.monitoring.models import (
        Channel,
        Heartbeat,
        MetricRollup1h,
        MetricRollup5m,
        MetricsCursor,
    )
    from linda.monitoring.retention import floor_5m
    from linda.registry.models import Region, RegionLevel, Site
    from linda.registry.regions import import_regions_file

    t0 = time.perf_counter()
    import_regions_file(ROOT / "data/regions/barito_utara_62.05.csv", actor=None)
    villages = list(Region.objects.filter(level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN]))
    Site.objects.bulk_create(
        Site(code=f"s{i:06d}", village=villages[i % len(villages)]) for i in range(n_sites)
    )
    sites = list(Site.objects.order_by("pk").values_list("pk", flat=True))
    now = floor_5m(timezone.now()) - timedelta(minutes=10)
    rows = 0

    def beats(site_id: int, minutes: int) -> int:
        Heartbeat.objects.bulk_create(
            (Heartbeat(site_id=site_id, received_at=now - i * MINUTE, channel=Channel.HB,
                       rtt_ms=600.0 + i % 150, loss_pct=0.0, battery_voltage_v=12.6,
                       battery_soc_pct=75.0, hotspot_users=i % 20,
                       wan={"ether1": {"rx_bytes": 10**9 - i * 600_000,
                                       "tx_bytes": 10**8 - i * 80_000}})
             for i in range(1, minutes + 1)), batch_size=5000)
        return minutes

    def rollups(model: Any, site_id: int, step: timedelta, count: int) -> int:
        model.objects.bulk_create(
            (model(site_id=site_id, bucket_start=floor_5m(now) - (i + 1) * step, **_stats(i))
             for i in range(count)), batch_size=5000)
        return count

    measured = sites[len(sites) // 2]
    rows += beats(measured, 30 * 24 * 60)
    rows += rollups(MetricRollup5m, measured, timedelta(minutes=5), 400 * 288)
    rows += rollups(MetricRollup1h, measured, timedelta(hours=1), 400 * 24)
    for site_id in sites[:history_sites]:
        if site_id == measured:
            continue
        rows += beats(site_id, 24 * 60)
        rows += rollups(MetricRollup5m, site_id, timedelta(minutes=5), 3 * 288)
        rows += rollups(MetricRollup1h, site_id, timedelta(hours=1), 30 * 24)
    MetricsCursor.objects.create(name="metrics", rolled_until=now)
    print(f"fill: {n_sites} sites, {rows:,} rows in {time.perf_counter() - t0:.1f} s")
    return now, measured


def measure(site_id: int, now: datetime, runs: int) -> None:
    from linda.monitoring.selectors import site_metrics

    for label, days in (("1 day", 1), ("30 days", 30), ("1 year", 365)):
        times: list[float] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            series = site_metrics(site_id, now - timedelta(days=days), now, now=now)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"site_metrics {label:>8}: {series.resolution:>3} x{series.bucket_s:>6} s, "
              f"{len(series.columns['t']):>5} points, p50 {statistics.median(times):6.1f} ms, "
              f"max {max(times):6.1f} ms")


def roll_fleet(now: datetime) -> None:
    from linda.monitoring.models import Channel, Heartbeat
    from linda.monitoring.retention import rollup_metrics
    from linda.registry.models import Site

    sites = list(Site.objects.values_list("pk", flat=True))
    Heartbeat.objects.bulk_create(
        (Heartbeat(site_id=pk, received_at=now + i * MINUTE, channel=Channel.HB, rtt_ms=640.0,
                   wan={"ether1": {"rx_bytes": 10**9 + i * 600_000, "tx_bytes": 10**8}})
         for pk in sites for i in range(5)), batch_size=5000)
    t0 = time.perf_counter()
    result = rollup_metrics(now + 5 * MINUTE + timedelta(minutes=2))
    print(f"roll-up of five minutes for {len(sites)} sites ({5 * len(sites):,} heartbeats): "
          f"{time.perf_counter() - t0:.2f} s, {result.hourly_rows} hourly rows rewritten")


if __name__ == "__main__":
    main()
