"""The energy commands' arguments and actions, shared by `linda energy <action>` and the older
hyphenated commands (`energy-sizing`, `energy-simulate`, `energy-autonomy`), which are aliases.

Each action is a pair: `add_<action>_arguments(parser)` and `<action>(options, write)`, where
`options` is what argparse parsed and `write` prints a block of text.
"""

from __future__ import annotations

import datetime as dt
import re
from argparse import ArgumentParser
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError
from django.db.models import QuerySet
from django.utils import timezone

from linda.domain.energy import DAYS_PER_YEAR, Chemistry, PowerProfile
from linda.domain.sla import month_bounds
from linda.energy.climate import ClimateFileError, MonthlyClimate, read_climate_file
from linda.energy.selectors import (
    DEFAULT_CHEMISTRY,
    DEFAULT_SEED,
    DEFAULT_YEARS,
    SiteEnergy,
    compare_power_downtime,
    forecast_site_autonomy,
    get_site_energy,
    list_energy_sites,
    typical_site,
)
from linda.energy.solar import WIB
from linda.energy.tables import (
    compare_preamble,
    compare_table,
    simulate_days,
    size_sites,
    sizing_preamble,
    sizing_table,
)
from linda.registry.models import Site

Options = Mapping[str, Any]
Write = Callable[[str], None]

# VSAT 45 W + router 6 W + three access points at 8 W: 75 W, 1.8 kWh a day.
TYPICAL_EQUIPMENT_W = 75.0


def _climate(path: str | None) -> MonthlyClimate | None:
    if path is None:
        return None
    try:
        return read_climate_file(path)
    except (OSError, ClimateFileError) as exc:
        raise CommandError(f"--climate: {exc}") from exc


def _sites(codes: list[str]) -> QuerySet[Site]:
    """The named sites (every site when none is named); an unknown code is refused."""
    rows = list_energy_sites()
    if codes:
        rows = rows.filter(code__in=codes)
        missing = set(codes) - {s.code for s in rows}
        if missing:
            raise CommandError(f"no such site: {', '.join(sorted(missing))}")
    return rows


def _site(code: str) -> Site:
    try:
        return list_energy_sites().get(code=code)
    except Site.DoesNotExist as exc:
        raise CommandError(f"no such site: {code}") from exc


# --- Sizing: `energy size SITE...`, `energy fleet`, `energy-sizing` --------------------------


def add_sizing_arguments(parser: ArgumentParser, *, sites: str | None) -> None:
    """`sites`: the nargs of the site codes (None: the command takes none, a whole fleet)."""
    if sites is not None:
        parser.add_argument("sites", nargs=sites, metavar="SITE", help="site codes")
        parser.add_argument("--typical", action="store_true",
                            help="three archetypes at Muara Teweh instead of the database: "
                                 "PLN 24 h, PLN 18-06 and off-grid, 75 W (1.8 kWh/day)")
    parser.add_argument("--autonomy-days", type=float, default=1.5)
    parser.add_argument("--target", type=float, default=99.5,
                        help="availability in %% a bad (p90) year must keep")
    parser.add_argument("--years", type=int, default=DEFAULT_YEARS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--climate", help="CSV month,ghi_kwh_m2_day for every site")
    parser.add_argument("--chemistry", choices=[c.value for c in Chemistry],
                        help="battery chemistry (default: the site's, else lfp)")


def _typical_sites(chemistry: Chemistry, common: dict[str, Any]) -> list[SiteEnergy]:
    archetypes = [
        ("typical-pln-24h", PowerProfile.PLN_24H, None, None),
        ("typical-pln-18-06", PowerProfile.PLN_PARTIAL, dt.time(18), dt.time(6)),
        ("typical-off-grid", PowerProfile.OFF_GRID, None, None),
    ]
    return [
        typical_site(code, profile, equipment_w=TYPICAL_EQUIPMENT_W, on_from=on_from,
                     on_until=on_until, chemistry=chemistry, **common)
        for code, profile, on_from, on_until in archetypes
    ]


def sizing(options: Options, write: Write) -> None:
    """The sizing table: the named sites (`sites`), every site (none named), or the typical
    archetypes (`typical`)."""
    if not 0 < options["target"] <= 100:
        raise CommandError("--target: a percentage in (0, 100]")
    if options["years"] < 1 or options["autonomy_days"] <= 0:
        raise CommandError("--years and --autonomy-days: must be positive")
    climate = _climate(options["climate"])
    chemistry = Chemistry(options["chemistry"]) if options["chemistry"] else None
    common: dict[str, Any] = {"years": options["years"], "seed": options["seed"],
                              "climate": climate}
    if options.get("typical"):
        sites = _typical_sites(chemistry or DEFAULT_CHEMISTRY, common)
    else:
        try:
            sites = [get_site_energy(s, chemistry=chemistry, **common)
                     for s in _sites(options.get("sites") or [])]
        except ClimateFileError as exc:
            raise CommandError(str(exc)) from exc
    target = options["target"] / 100
    results = size_sites(sites, autonomy_days=options["autonomy_days"],
                         target_availability=target)
    write(sizing_preamble(years=options["years"], seed=options["seed"],
                          autonomy_days=options["autonomy_days"], target_availability=target))
    if climate:
        write(f"Climate: {climate.source}")
    write("")
    write(sizing_table(results) if results else "No sites.")


def size(options: Options, write: Write) -> None:
    """`energy size SITE...`: the named sites (or `--typical`)."""
    if not options["sites"] and not options["typical"]:
        raise CommandError("size: name a site (or --typical); `energy fleet` sizes every site")
    sizing(options, write)


def fleet(options: Options, write: Write) -> None:
    """`energy fleet`: every site in the database."""
    sizing({**options, "sites": [], "typical": False}, write)


# --- A stretch of simulated days: `energy simulate SITE` -------------------------------------


def add_simulate_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("site", help="site code")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--start-day", type=int, default=0,
                        help="day of the simulated years to start on (0 = 1 January)")
    parser.add_argument("--pv-wp", type=int, help="instead of the installed PV")
    parser.add_argument("--battery-wh", type=int, help="instead of the installed battery")
    parser.add_argument("--soc", type=float, default=1.0, help="charge at the start, 0-1")
    parser.add_argument("--years", type=int, default=DEFAULT_YEARS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--climate", help="CSV month,ghi_kwh_m2_day")


def simulate(options: Options, write: Write) -> None:
    row = _site(options["site"])
    climate = _climate(options["climate"])
    years = max(options["years"], -(-(options["start_day"] + options["days"]) // DAYS_PER_YEAR))
    site = get_site_energy(row, years=years, seed=options["seed"], climate=climate)
    pv_wp = options["pv_wp"] if options["pv_wp"] is not None else site.installed_pv_wp or 0
    battery_wh = (options["battery_wh"] if options["battery_wh"] is not None
                  else site.installed_battery_wh or 0)
    if not 0 <= options["soc"] <= 1:
        raise CommandError("--soc: must be in [0, 1]")
    try:
        result = simulate_days(site, start_day=options["start_day"], days=options["days"],
                               pv_wp=pv_wp, battery_wh=battery_wh, soc_fraction=options["soc"])
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    c = site.conditions
    write(
        f"{site.code}: {pv_wp} Wp, {battery_wh} Wh {c.chemistry.value}, load "
        f"{c.load.equipment_w:.0f} W ({c.load.bus_w:.1f} W from the battery bus), "
        f"{site.profile.value}; weather seed {site.seed}, {site.climate.source}\n"
    )
    write(result.table)
    run = result.run
    write(
        f"\n{options['days']} days: PV {result.pv_wh / 1000:.1f} kWh, load "
        f"{result.load_wh / 1000:.1f} kWh, wasted {run.wasted_wh / 1000:.1f} kWh, "
        f"outage {run.outage_h:.1f} h ({100 * run.served_fraction:.2f} % of hours served), "
        f"battery full on {run.days_full} days, empty on {run.days_empty}."
    )


# --- Will the battery last the night? `energy autonomy SITE` ---------------------------------


def add_autonomy_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("site", help="site code")
    parser.add_argument("--soc", type=float, required=True, help="state of charge, 0-1")
    parser.add_argument("--at", help="ISO time with offset (default: now)")
    parser.add_argument("--load-w", type=float, help="measured load at the equipment")
    parser.add_argument("--clearness-today", type=float,
                        help="today's measured PV / clear-sky PV, 0-1, if known")


def autonomy(options: Options, write: Write) -> None:
    row = _site(options["site"])
    at = dt.datetime.fromisoformat(options["at"]) if options["at"] else timezone.now()
    if at.tzinfo is None:
        raise CommandError("--at: needs a UTC offset, e.g. 2024-10-15T18:00+07:00")
    if not 0 <= options["soc"] <= 1:
        raise CommandError("--soc: must be in [0, 1]")
    try:
        forecast = forecast_site_autonomy(
            get_site_energy(row), at=at, soc_fraction=options["soc"],
            load_w=options["load_w"], today_clearness=options["clearness_today"],
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc

    def hours(h: float | None) -> str:
        return f"> {forecast.horizon_h} h" if h is None else f"{h:.1f} h"

    write(
        f"{row.code} at {at.isoformat()}: charge {100 * options['soc']:.0f} %\n"
        f"  no sun, no PLN:      {forecast.hours_no_sun:.1f} h to the low-voltage disconnect\n"
        f"  weather, pessimistic: {hours(forecast.hours_p10)} (1 in 10 scenarios is worse)\n"
        f"  weather, median:     {hours(forecast.hours_p50)}\n"
        f"  night ends in:       {forecast.night_end_h} h\n"
        f"  goes dark tonight:   {'YES' if forecast.goes_dark_tonight else 'no'}"
    )


# --- Predicted against observed power downtime: `energy compare --month YYYY-MM` -------------


def add_compare_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("sites", nargs="*", metavar="SITE", help="site codes (default: every "
                        "site)")
    parser.add_argument("--month", required=True, help="the month in WIB, YYYY-MM")
    parser.add_argument("--years", type=int, default=DEFAULT_YEARS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)


def month_period(text: str) -> tuple[dt.datetime, dt.datetime]:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise CommandError(f"--month: YYYY-MM, got {text!r}")
    span = month_bounds(int(match[1]), int(match[2]), ZoneInfo(WIB))
    return span.start, span.end


def compare(options: Options, write: Write) -> None:
    start, end = month_period(options["month"])
    if options["years"] < 1:
        raise CommandError("--years: must be positive")
    rows = compare_power_downtime(start, end, list(_sites(options["sites"])),
                                  years=options["years"], seed=options["seed"])
    write(compare_preamble(month=options["month"], years=options["years"],
                           seed=options["seed"]))
    write("")
    write(compare_table(rows) if rows else "No sites.")
