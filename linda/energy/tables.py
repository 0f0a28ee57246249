"""Plain-text tables for the energy commands (sizing per site, a simulated stretch of days,
predicted against observed power downtime)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from linda.domain import energy
from linda.domain.energy import DesignOutcome, PowerProfile, Sizing
from linda.energy.selectors import (
    UNDERSIZED_FACTOR,
    UNDERSIZED_MARGIN_H,
    DowntimeFlag,
    PowerDowntime,
    SiteEnergy,
    installed_outcomes,
    size_site_energies,
    weather_years,
)
from linda.energy.solar import REFERENCE_YEAR, clear_sky_year

DASH = "-"


def format_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the first column left-aligned, the rest right."""
    lines = [list(header), *[list(r) for r in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line: list[str]) -> str:
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                 enumerate(zip(line, widths, strict=True))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(lines[0]), rule, *(fmt(line) for line in lines[1:])])


def power_label(site: SiteEnergy) -> str:
    if site.profile is PowerProfile.PLN_PARTIAL:
        on = [h for h, g in enumerate(site.conditions.grid_on) if g]
        starts = [h for h in on if (h - 1) % 24 not in on]
        ends = [(h + 1) % 24 for h in on if (h + 1) % 24 not in on]
        return "PLN " + ",".join(f"{s:02d}-{e:02d}" for s, e in zip(starts, ends, strict=True))
    return {PowerProfile.PLN_24H: "PLN 24 h", PowerProfile.OFF_GRID: "off-grid"}[site.profile]


def rupiah(idr: int) -> str:
    return f"{idr:,}".replace(",", ".")


def _outage(o: DesignOutcome | None) -> list[str]:
    if o is None:
        return [DASH] * 3
    return [f"{o.outage_h_mean:.1f}", f"{o.outage_h_p90:.1f}", f"{o.outage_h_worst:.1f}"]


def _design(o: DesignOutcome | None) -> list[str]:
    return [DASH, DASH] if o is None else [str(o.pv_wp), str(o.battery_wh)]


@dataclass(frozen=True)
class SiteSizing:
    site: SiteEnergy
    installed: DesignOutcome | None
    sizing: Sizing


def size_sites(
    sites: Sequence[SiteEnergy], *, autonomy_days: float, target_availability: float
) -> list[SiteSizing]:
    built = [s for s in sites if s.has_solar]
    installed = dict(zip((id(s) for s in built), installed_outcomes(built), strict=True))
    sizings = size_site_energies(
        sites, autonomy_days=autonomy_days, target_availability=target_availability
    )
    return [
        SiteSizing(site, installed.get(id(site)), sizing)
        for site, sizing in zip(sites, sizings, strict=True)
    ]


SIZING_HEADER = (
    "site", "power", "chem", "load W", "kWh/d",
    "inst Wp", "inst Wh", "out mean", "out p90", "out worst",
    "rule Wp", "rule Wh",
    "sized Wp", "sized Wh", "out mean", "out p90", "out worst", "cost Rp",
    "cheap Wp", "cheap Wh", "cheap Rp",
)


def sizing_table(results: Sequence[SiteSizing]) -> str:
    rows = []
    for r in results:
        c, s = r.site.conditions, r.sizing
        rec, cheap = s.recommended, s.cheapest
        needs_nothing = s.rule.off_grid_wh_per_day == 0
        rows.append([
            r.site.code, power_label(r.site), str(c.chemistry.value),
            f"{c.load.equipment_w:.0f}", f"{c.load.equipment_wh_per_day / 1000:.2f}",
            *(_design(r.installed) if r.installed else [DASH, DASH]), *_outage(r.installed),
            str(s.rule.pv_wp), str(s.rule.battery_wh),
            *([DASH] * 6 if needs_nothing else
              [*_design(rec), *_outage(rec), rupiah(rec.cost_idr) if rec else DASH]),
            *([DASH] * 3 if needs_nothing or cheap is None else
              [*_design(cheap), rupiah(cheap.cost_idr)]),
        ])
    return format_table(SIZING_HEADER, rows)


def sizing_preamble(
    *, years: int, seed: int, autonomy_days: float, target_availability: float,
    prices: energy.UnitPrices | None = None,
) -> str:
    prices = prices or energy.UnitPrices()
    return (
        f"{years} simulated years (seed {seed}); sized = battery for {autonomy_days:g} days of "
        f"the off-grid load + the least PV (50 Wp steps) whose bad year (p90) keeps "
        f"{100 * target_availability:g} % availability; cheap = the cheapest PV/battery pair "
        f"that does.\nOutage in hours a year (mean, p90 = one year in ten is worse, worst). "
        f"PLN is assumed to keep its hours. Prices: Rp {rupiah(prices.pv_idr_per_wp)}/Wp, "
        f"LFP Rp {rupiah(prices.lfp_idr_per_wh)}/Wh, "
        f"lead-acid Rp {rupiah(prices.lead_acid_idr_per_wh)}/Wh."
    )


# --- A stretch of simulated days -------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedDays:
    table: str
    run: energy.Run
    pv_wh: float
    load_wh: float


def simulate_days(
    site: SiteEnergy, *, start_day: int, days: int, pv_wp: int, battery_wh: int,
    soc_fraction: float = 1.0,
) -> SimulatedDays:
    """Day by day from `start_day` (0 = 1 January of simulated year 1) through the site's
    simulated weather, which runs on across years."""
    c = site.conditions
    total_days = site.years * energy.DAYS_PER_YEAR
    if not 0 <= start_day < total_days or not 1 <= days <= total_days - start_day:
        raise ValueError(f"the simulated weather covers {total_days} days from 1 January")
    clearness, yields = weather_years(
        site.latitude, site.longitude, site.climate.ghi_kwh_m2_day, site.years, site.seed
    )
    hours = slice(start_day * 24, (start_day + days) * 24)
    pv = (pv_wp * yields.reshape(-1)[hours]).tolist()
    grid = list(c.grid_on) * days
    battery = energy.battery_of(battery_wh, c.chemistry)
    run = energy.simulate_hours(
        pv_wh=pv, grid_on=grid, battery=battery, load_w=c.load.bus_w,
        charger_dc_w=c.charger_dc_w, soc_fraction=soc_fraction, trace=True,
    )
    clear_daily = energy.clear_sky_daily_wh_m2(
        clear_sky_year(site.latitude, site.longitude).ghi_w_m2
    )
    k = clearness.reshape(-1)[start_day:start_day + days]
    soc = np.asarray(run.soc_wh).reshape(days, 24) / battery_wh * 100 if battery_wh else None
    rows = []
    for i in range(days):
        day = start_day + i
        date = dt.date(REFERENCE_YEAR, 1, 1) + dt.timedelta(days=day % energy.DAYS_PER_YEAR)
        lost = sum(run.outage_by_h[i * 24:(i + 1) * 24])
        rows.append([
            f"y{day // energy.DAYS_PER_YEAR + 1} {date:%d %b}", f"{k[i]:.2f}",
            f"{k[i] * clear_daily[day % energy.DAYS_PER_YEAR] / 1000:.2f}",
            f"{sum(pv[i * 24:(i + 1) * 24]) / 1000:.2f}",
            *( [f"{soc[i].min():.0f}", f"{soc[i].max():.0f}", f"{soc[i, -1]:.0f}"]
               if soc is not None else [DASH] * 3),
            f"{lost:.1f}",
        ])
    header = ("day", "k", "GHI kWh/m2", "PV kWh", "SoC min %", "SoC max %", "SoC end %",
              "outage h")
    return SimulatedDays(format_table(header, rows), run, sum(pv), c.load.bus_w * 24 * days)


# --- Predicted against observed power downtime -----------------------------------------------


COMPARE_HEADER = ("site", "power", "installed", "monitored h", "pred mean h", "pred p90 h",
                  "observed h", "ratio", "flag")


def compare_table(rows: Sequence[PowerDowntime]) -> str:
    return format_table(COMPARE_HEADER, [
        [
            r.site.code, power_label(r.site), r.design, f"{r.monitored_h:.0f}",
            f"{r.predicted_h_mean:.1f}", f"{r.predicted_h_p90:.1f}",
            DASH if r.observed_h is None else f"{r.observed_h:.1f}",
            DASH if r.ratio is None else f"{r.ratio:.1f}",
            DASH if r.flag is DowntimeFlag.OK else r.flag.value,
        ]
        for r in rows
    ])


def compare_preamble(*, month: str, years: int, seed: int) -> str:
    return (
        f"Power downtime in {month} (WIB), over the hours each site was monitored. pred = the "
        f"outage the installed design loses in those hours of the year over {years} simulated "
        f"years (seed {seed}): mean and p90 (one year in ten is worse); observed = DOWN time the "
        f"SLA attribution puts down to power; ratio = observed / mean.\n"
        f"undersized: observed > {UNDERSIZED_FACTOR:g} x p90 + {UNDERSIZED_MARGIN_H:g} h. "
        f"check: power outages where the model never goes dark (PLN failing, equipment or "
        f"design not on record)."
    )
