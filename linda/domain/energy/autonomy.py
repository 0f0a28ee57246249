"""Live autonomy: will the battery last the night?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from linda.domain.energy.balance import simulate_batch
from linda.domain.energy.battery import Battery
from linda.domain.energy.pv import DEFAULT_PV, PvParams, dc_yield_wh_per_wp
from linda.domain.energy.units import Floats


@dataclass(frozen=True, slots=True)
class AutonomyForecast:
    hours_no_sun: float  # until the LVD opens if neither PV nor PLN came
    hours_p10: float | None  # pessimistic (1 weather scenario in 10 is worse); None: beyond horizon
    hours_p50: float | None
    night_end_h: int  # hours until PV under a clear sky (or PLN) carries the load again
    horizon_h: int
    goes_dark_tonight: bool  # the pessimistic LVD time comes before the night ends


def night_end_h(pv_clear_wh: Floats, grid_on: Sequence[bool], load_w: float) -> int:
    """Hours from now until the end of the coming night: the first hour after the first hour
    the load is short of clear-sky PV (and PLN is off) in which PV or PLN covers it again."""
    covered = [bool(g) or float(p) >= load_w for p, g in zip(pv_clear_wh, grid_on, strict=True)]
    try:
        dusk = covered.index(False)
        return covered.index(True, dusk)
    except ValueError:
        return len(covered)


def forecast_autonomy(
    *,
    battery: Battery,
    soc_fraction: float,
    load_w: float,
    pv_wp: float,
    poa_clear_w_m2: Floats,
    grid_on: Sequence[bool],
    clearness: Floats,
    connected: bool | None = None,
    charger_dc_w: float = 0.0,
    pv: PvParams = DEFAULT_PV,
    quantile: float = 0.10,
) -> AutonomyForecast:
    """Hours until the LVD opens, from the charge now, over weather scenarios.

    Hour 0 starts now. `poa_clear_w_m2` and `grid_on` cover the horizon (H hours); `clearness`
    is scenarios x H (each hour carries its day's clearness, see `clearness_scenarios`)."""
    poa = np.asarray(poa_clear_w_m2, dtype=np.float64)
    k = np.atleast_2d(np.asarray(clearness, dtype=np.float64))
    horizon = poa.shape[0]
    if k.shape[1] != horizon or len(grid_on) != horizon:
        raise ValueError("poa_clear_w_m2, grid_on and clearness: need the same horizon")
    runs = simulate_batch(
        pv_wp=[pv_wp], capacity_wh=[battery.capacity_wh], spec=battery.spec, load_w=load_w,
        grid_on=grid_on, yields_wh_per_wp=dc_yield_wh_per_wp(k * poa, pv),
        charger_dc_w=charger_dc_w, soc_fraction=soc_fraction, connected=connected,
    )
    first = np.where(np.isnan(runs.first_lvd_h[0]), np.inf, runs.first_lvd_h[0])
    p10, p50 = (float(np.quantile(first, q, method="lower")) for q in (quantile, 0.5))
    no_sun = max(battery.capacity_wh * soc_fraction - battery.floor_wh, 0.0) * (
        battery.spec.discharge_efficiency / load_w if load_w > 0 else math.inf
    )
    night = night_end_h(pv_wp * dc_yield_wh_per_wp(poa, pv), grid_on, load_w)
    return AutonomyForecast(
        hours_no_sun=no_sun,
        hours_p10=p10 if math.isfinite(p10) else None,
        hours_p50=p50 if math.isfinite(p50) else None,
        night_end_h=night,
        horizon_h=horizon,
        goes_dark_tonight=math.isfinite(p10) and p10 < night,
    )
