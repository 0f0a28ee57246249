"""Energy model benchmark: simulated site-years per second, sizing per site, a demo-size fleet,
and the hour-by-hour outage of one design that `linda energy compare` predicts from.

    .venv/bin/python bench/energy.py [--years 10]

Goals (issue 8): a simulated year <= 10 ms, sizing <= 0.5 s per site, the demo fleet <= 10 s.
Needs no database: the fleet is 68 archetype sites spread over the regency like the demo's
(25 on PLN 24 h, 43 new sites half PLN 18-06 and half off-grid, 900 Wp / 4.8 kWh LFP).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from linda.domain import energy  # noqa: E402
from linda.energy import selectors  # noqa: E402
from linda.energy.climate import DEFAULT_CLIMATE  # noqa: E402

LOAD_W = 75.0


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of `repeat` runs (CPU time is the steadier figure
    on a shared machine)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def fleet(years: int) -> list[selectors.SiteEnergy]:
    rng = random.Random(6205)
    sites = []
    for n in range(68):
        at = (-1.35 + 0.17 * (n % 9) + rng.uniform(-0.07, 0.07),
              114.55 + 0.11 * ((n * 4) % 9) + rng.uniform(-0.07, 0.07))
        if n < 25:
            profile, hours, installed = energy.PowerProfile.PLN_24H, (None, None), None
        else:
            profile = energy.PowerProfile.PLN_PARTIAL if n % 2 else energy.PowerProfile.OFF_GRID
            hours = (dt.time(18), dt.time(6)) if n % 2 else (None, None)
            installed = (900, 4800)
        sites.append(selectors.typical_site(
            f"bench-{n:02d}", profile, equipment_w=LOAD_W, on_from=hours[0], on_until=hours[1],
            years=years, at=at, installed=installed,
        ))
    return sites


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    site = selectors.typical_site("bench", energy.PowerProfile.OFF_GRID, equipment_w=LOAD_W,
                                  years=args.years)
    setup_s = time.perf_counter() - start
    c = site.conditions
    pv = (900 * c.yields_wh_per_wp[0]).tolist()
    grid = list(c.grid_on) * energy.DAYS_PER_YEAR
    battery = energy.battery_of(4800, c.chemistry)

    def one_year() -> None:
        energy.simulate_hours(pv_wh=pv, grid_on=grid, battery=battery, load_w=c.load.bus_w)

    year_s = best_of(args.repeat * 5, one_year)
    designs = [(p, b) for b in (1200, 2400, 3600, 4800, 7200, 9600) for p in range(300, 1300, 100)]
    batch_s = best_of(args.repeat, lambda: energy.evaluate_designs(c, designs))
    site_years = len(designs) * args.years

    def sizing() -> None:
        energy.size_site(c, autonomy_days=1.5, target_availability=0.995,
                         worst_month_kwh_m2_day=DEFAULT_CLIMATE.worst_month_kwh_m2_day)

    sizing_s = best_of(args.repeat, sizing)
    hourly_s = best_of(args.repeat, lambda: energy.hourly_outage_h(c, pv_wp=900, battery_wh=4800))

    def whole_fleet() -> None:
        selectors.weather_years.cache_clear()
        selectors.solar.clear_sky_year.cache_clear()
        selectors._SIZINGS.clear()
        selectors._OUTCOMES.clear()
        sites = fleet(args.years)
        selectors.installed_outcomes([s for s in sites if s.has_solar])
        selectors.size_site_energies(sites, autonomy_days=1.5, target_availability=0.995)

    fleet_s = best_of(1, whole_fleet)

    print(f"energy benchmark: off-grid {LOAD_W:.0f} W site at Muara Teweh, LFP, "
          f"{args.years} simulated years, best of {args.repeat}; wall (CPU) seconds")
    print(f"  clear sky (pvlib) + weather for one place: {setup_s:7.3f}")
    print(f"  one year, one design (scalar engine):      {year_s[0]:7.4f} ({year_s[1]:.4f})"
          f"  {1 / year_s[0]:7,.0f} site-years/s  goal <= 0.010")
    print(f"  {len(designs)} designs x {args.years} years (vectorised):     "
          f"{batch_s[0]:7.3f} ({batch_s[1]:.3f})  {site_years / batch_s[0]:7,.0f} site-years/s")
    print(f"  sizing one off-grid site:                  {sizing_s[0]:7.3f} ({sizing_s[1]:.3f})"
          f"                      goal <= 0.5")
    print(f"  outage hour by hour, 1 design x {args.years} years:  "
          f"{hourly_s[0]:7.3f} ({hourly_s[1]:.3f})  for `energy compare`, once per distinct site")
    print(f"  demo-size fleet, 68 sites from scratch:    {fleet_s[0]:7.3f} ({fleet_s[1]:.3f})"
          f"                      goal <= 10")


if __name__ == "__main__":
    main()
