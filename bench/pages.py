"""Page benchmark: 10,000 sites with a month of history; p50/p95 server time per page.

    .venv/bin/python bench/pages.py [--sites 10000] [--days 30] [--runs 20]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linda_bench .venv/bin/python bench/pages.py

Builds a scratch database (a temporary SQLite file unless DATABASE_URL is set; the database
is created and dropped by the script), fills it through the ORM (68 villages active in the
program, so the public page lists their sites), runs the background step that stores the
daily totals (`manage.py fill_site_days`, timed), then times the dashboard, the map data,
the sites list, a site page, its outages card, its 7-day metrics and the public status page
in-process with Django's test client (server time: URL routing, views, queries, templates),
logged in as an operator. Each page gets one warm-up request first (timed apart: "first
ms"), as a server that has run for a minute has had. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from scratch import scratch_database  # bench/scratch.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with scratch_database("linda_bench_pages"):
        fill(args.sites, args.days)
        background_fill()
        measure(args.runs)


def fill(n_sites: int, days: int) -> None:
    from django.utils import timezone

    from linda.accounts.models import Profile, Role
    from linda.monitoring.models import Heartbeat, SiteState, StatusInterval
    from linda.registry.models import Region, RegionLevel, Site
    from linda.registry.regions import import_regions_file

    t0 = time.perf_counter()
    import_regions_file(ROOT / "data/regions/barito_utara_62.05.csv", actor=None)
    villages = list(Region.objects.filter(level__in=[RegionLevel.DESA, RegionLevel.KELURAHAN]))
    Site.objects.bulk_create(
        Site(code=f"s{i:06d}", village=villages[i % len(villages)]) for i in range(n_sites)
    )
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=days)
    sites = list(Site.objects.values_list("pk", flat=True))
    SiteState.objects.bulk_create(
        SiteState(site_id=pk, activated_at=start, last_live_at=now, state="up",
                  state_since=start, materialized_until=now - timedelta(minutes=5),
                  materialized_anchor=now - timedelta(minutes=5))
        for pk in sites
    )
    rng = random.Random(1)
    batch: list[StatusInterval] = []
    for pk in sites:
        t = start
        for _ in range(days):
            down_at = t + timedelta(seconds=rng.randrange(3600, 80_000))
            down_for = timedelta(seconds=rng.randrange(60, 3600))
            day_end = min(t + timedelta(days=1), now - timedelta(minutes=5))
            for s, e, state in ((t, down_at, "up"), (down_at, down_at + down_for, "down"),
                                (down_at + down_for, day_end, "up")):
                if e > s:
                    batch.append(StatusInterval(site_id=pk, start=s, end=e, state=state))
            t = day_end
        if len(batch) > 20_000:
            StatusInterval.objects.bulk_create(batch)
            batch.clear()
    StatusInterval.objects.bulk_create(batch)
    Heartbeat.objects.bulk_create(
        Heartbeat(site_id=sites[0], received_at=now - timedelta(minutes=m), channel="hb",
                  seq=m, rtt_ms=600 + m % 50, loss_pct=0, battery_voltage_v=13.0,
                  battery_soc_pct=80, hotspot_users=m % 9,
                  wan={"ether1": {"rx_bytes": 10_000 * (2000 - m), "tx_bytes": 2_000 * m}})
        for m in range(1, 24 * 60 * 7, 1)
    )
    from django.contrib.auth import get_user_model

    from linda.domain.lifecycle import Stage
    from linda.rollout.models import PriorityVillage, Program

    program = Program.objects.create(
        name="bench", owner_office="bench", target_date=now.date() + timedelta(days=365),
        regency=Region.objects.get(code="62.05"))
    PriorityVillage.objects.bulk_create(
        PriorityVillage(program=program, village=v, stage=Stage.ACTIVE, stage_since=start.date())
        for v in villages[:68])
    user = get_user_model().objects.create_user("bench", password="x")
    Profile.objects.create(user=user, role=Role.OPERATOR)
    print(f"filled {n_sites} sites, {StatusInterval.objects.count()} intervals, "
          f"{Heartbeat.objects.count()} heartbeats in {time.perf_counter() - t0:.1f} s")


def background_fill() -> None:
    """The background step the demo runs beside the monitor (`manage.py fill_site_days`)."""
    from io import StringIO

    from django.core.management import call_command

    t0 = time.perf_counter()
    out = StringIO()
    call_command("fill_site_days", stdout=out)
    print(f"background fill_site_days: {out.getvalue().strip()} in "
          f"{time.perf_counter() - t0:.1f} s")


def measure(runs: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client

    from linda.registry.models import Site

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    code = Site.objects.order_by("pk").values_list("code", flat=True).first()
    pages = {
        "dashboard": "/",
        "map data": "/map/data.json",
        "sites list": "/sites/",
        "site page": f"/sites/{code}/",
        "site outages": f"/sites/{code}/outages/",  # the card loaded after the site page
        "site metrics 7d": f"/sites/{code}/metrics.json?range=7d",
        "public status": "/status/",
    }
    print(f"database: {connection.vendor}; {runs} runs per page")
    print(f"{'page':<18}{'first ms':>10}{'p50 ms':>10}{'p95 ms':>10}{'queries':>10}")
    for name, path in pages.items():
        t = time.perf_counter()
        assert client.get(path).status_code == 200, path
        first_ms = (time.perf_counter() - t) * 1000
        times = []
        connection.force_debug_cursor = True
        for _ in range(runs):
            reset_queries()
            t = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        queries = len(connection.queries)
        connection.force_debug_cursor = False
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{name:<18}{first_ms:>10.1f}{statistics.median(times):>10.1f}{p95:>10.1f}"
              f"{queries:>10}")


if __name__ == "__main__":
    main()
