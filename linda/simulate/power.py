"""The simulator's link to the energy model: weather per cell and one hour of battery balance.

The physics is not ours: clear-sky irradiance comes from pvlib through `linda.energy.solar`,
the daily clearness process (calibrated to the monthly irradiation in
`linda.energy.climate`, about 4.4 kWh/m^2/day for central Kalimantan; sources in
docs/energy.md) and the hour-by-hour PV/battery balance with its low-voltage disconnect
come from `linda.domain.energy`. This module only steps that balance one hour at a time for
many sites, sharing the work between sites in the same situation.

No Django, no clock, no I/O (pvlib reads its bundled tables).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from linda.domain import energy
from linda.domain.energy import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    Battery,
    Bools,
    Chemistry,
    ClearnessProcess,
    Floats,
    PvParams,
    SiteConditions,
    SiteLoad,
)
from linda.energy import solar
from linda.energy.climate import DEFAULT_MONTHLY_GHI_KWH_M2_DAY

WIB_OFFSET_S = 7 * 3600  # Kalimantan Tengah keeps WIB, UTC+7, with no daylight saving
HOUR_S = 3600
CELL_DEG = 0.5  # weather and rain are drawn per 0.5-degree cell (~55 km)
PV = PvParams()
PROCESS = ClearnessProcess()
_DEFAULTS = {f.name: f.default for f in fields(SiteConditions)}
# What the PLN charger puts into the battery per hour (the energy model's defaults).
CHARGER_DC_W = float(_DEFAULTS["grid_charger_w"]) * float(_DEFAULTS["grid_charger_efficiency"])  # type: ignore[arg-type]


def local_hour(t: float) -> int:
    """The WIB hour of the day (0-23) of Unix time `t`."""
    return int(((t + WIB_OFFSET_S) // HOUR_S) % HOURS_PER_DAY)


def hour_of_year(t: float) -> int:
    """Index of the WIB hour containing `t` in the 365-day reference year (29 Feb folds onto
    28 Feb), as `linda.energy.selectors.hour_of_year` does."""
    local = dt.datetime.fromtimestamp(t + WIB_OFFSET_S, dt.UTC)
    day = min(local.timetuple().tm_yday - 1, DAYS_PER_YEAR - 1)
    leap = local.year % 4 == 0 and (local.year % 100 != 0 or local.year % 400 == 0)
    if leap and local.month > 2:
        day -= 1
    return day * HOURS_PER_DAY + local.hour


def cell_of(latitude: float, longitude: float, size_deg: float = CELL_DEG) -> tuple[float, float]:
    def snap(x: float) -> float:
        return round(round(x / size_deg) * size_deg, 4)

    return snap(latitude), snap(longitude)


@lru_cache(maxsize=256)
def cell_weather(latitude: float, longitude: float, seed: int) -> tuple[Floats, Floats]:
    """(daily clearness, 365 values; DC yield per Wp, 8760 hourly values) of one cell.

    One year of the energy model's clearness process for the seed; every cell of a run
    shares the seed, so a cloudy spell covers the whole regency as it does, while the cells
    keep their own sun angles."""
    clear = solar.clear_sky_year(latitude, longitude)
    mu = energy.latent_means(
        energy.clear_sky_daily_wh_m2(clear.ghi_w_m2), DEFAULT_MONTHLY_GHI_KWH_M2_DAY, PROCESS
    )
    clearness = energy.daily_clearness(mu_by_day=mu, years=1, seed=seed, process=PROCESS)
    yields = energy.pv_yield_wh_per_wp(clear.poa_w_m2, clearness, PV)[0]
    day_k: Floats = clearness[0]
    day_k.flags.writeable = False
    yields.flags.writeable = False
    return day_k, yields


@dataclass(frozen=True, slots=True)
class HourWeather:
    """Per cell, for one hour: the day's clearness and the DC energy of 1 Wp."""

    clearness: Floats
    yield_wh_per_wp: Floats


def weather_for_hour(cells: list[tuple[float, float]], seed: int, t: float) -> HourWeather:
    hour = hour_of_year(t)
    day = hour // HOURS_PER_DAY
    clearness = np.empty(len(cells))
    yields = np.empty(len(cells))
    for i, (lat, lon) in enumerate(cells):
        k, y = cell_weather(lat, lon, seed)
        clearness[i] = k[day]
        yields[i] = y[hour]
    return HourWeather(clearness, yields)


# --- the battery, one hour at a time ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HourResult:
    """Per site: charge at the end of the hour, whether the load is connected then, and the
    fraction of the hour the load was dark (at the end of the hour, see `dark_span`)."""

    soc_wh: Floats
    connected: Bools
    dark_fraction: Floats


def battery_for(capacity_wh: float, chemistry: str) -> Battery:
    return energy.battery_of(capacity_wh, Chemistry(chemistry or Chemistry.LFP))


def bus_load_w(equipment_w: float) -> float:
    return SiteLoad(equipment_w).bus_w


def step_hour(
    *,
    pv_wh: Floats,
    grid_on: Bools,
    capacity_wh: Floats,
    chemistry: list[str],
    load_w: Floats,
    soc_wh: Floats,
    connected: Bools,
    sites: npt.NDArray[np.intp],
) -> HourResult:
    """One hour of `linda.domain.energy.simulate_hours` for each of `sites` (indices into the
    per-site arrays). Sites in the same situation (battery, load, PV energy, PLN, charge) are
    computed once."""
    n = len(sites)
    soc_out = np.empty(n)
    conn_out = np.empty(n, dtype=bool)
    dark = np.empty(n)
    memo: dict[tuple[object, ...], tuple[float, bool, float]] = {}
    for j, s in enumerate(sites.tolist()):
        key = (float(capacity_wh[s]), chemistry[s], float(load_w[s]), float(pv_wh[s]),
               bool(grid_on[s]), float(soc_wh[s]), bool(connected[s]))
        hit = memo.get(key)
        if hit is None:
            cap = key[0]
            run = energy.simulate_hours(
                pv_wh=[key[3]], grid_on=[key[4]], battery=battery_for(cap, key[1]),
                load_w=key[2], charger_dc_w=CHARGER_DC_W,
                soc_fraction=min(max(key[5] / cap, 0.0), 1.0), connected=key[6], trace=True,
            )
            hit = (run.soc_end_wh, run.connected_end, run.outage_by_h[0])
            memo[key] = hit
        soc_out[j], conn_out[j], dark[j] = hit
    return HourResult(soc_out, conn_out, dark)


def warm_up(
    *,
    pv_wh_by_hour: Floats,
    grid_on_by_hour: Bools,
    capacity_wh: float,
    chemistry: str,
    load_w: float,
) -> tuple[float, bool]:
    """The charge and LVD state after `len(pv_wh_by_hour)` hours, begun full: where a site
    stands when the simulation starts (the energy model's own warm-up rule)."""
    run = energy.simulate_hours(
        pv_wh=[float(x) for x in pv_wh_by_hour], grid_on=[bool(g) for g in grid_on_by_hour],
        battery=battery_for(capacity_wh, chemistry), load_w=load_w, charger_dc_w=CHARGER_DC_W,
        soc_fraction=1.0,
    )
    return run.soc_end_wh, run.connected_end


# --- what the charge controller shows --------------------------------------------------------

# Open-circuit voltage of a 12 V bank against its state of charge.
_OCV: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # LiFePO4, 4 cells: very flat between 20 % and 90 %.
    Chemistry.LFP.value: (
        (0.0, 0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 0.95, 1.0),
        (10.0, 12.0, 12.5, 12.9, 13.0, 13.05, 13.1, 13.15, 13.2, 13.25, 13.3, 13.4, 13.6),
    ),
    # VRLA lead-acid, 6 cells.
    Chemistry.LEAD_ACID.value: (
        (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0),
        (11.3, 11.6, 11.9, 12.05, 12.2, 12.45, 12.7),
    ),
}
CHARGE_RISE_V = 0.35  # bulk/absorption charging lifts the terminal voltage
LOAD_SAG_V = 0.06  # a ~5 A load on a 12 V bank


def battery_voltage_v(soc_fraction: Floats, chemistry_lfp: Bools, charging: Bools,
                      noise: Floats) -> Floats:
    lfp_x, lfp_y = _OCV[Chemistry.LFP.value]
    pb_x, pb_y = _OCV[Chemistry.LEAD_ACID.value]
    ocv = np.where(chemistry_lfp, np.interp(soc_fraction, lfp_x, lfp_y),
                   np.interp(soc_fraction, pb_x, pb_y))
    room = soc_fraction < 0.995
    out: Floats = ocv + np.where(charging & room, CHARGE_RISE_V, np.where(charging, 0.1,
                                                                         -LOAD_SAG_V)) + noise
    return out
