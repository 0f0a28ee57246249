"""Solar PV + battery energy model of a village site: an hourly energy balance over whole years.

Pure: numpy and the standard library only. Irradiance comes in as arrays (the pvlib adapter in
`linda.energy.solar` computes them), so this package never needs pvlib, Django, a clock or I/O.

Time is a local (WIB) hour index: a year is 365 days x 24 hours, hour 0 is 1 January 00:00-01:00.
Units are in the names: `_w` power, `_wh` energy, `_wp` PV peak watts, `_h` hours,
`_w_m2` irradiance, `_kwh_m2_day` daily irradiation. A state of charge `soc` is in Wh,
`soc_fraction` in [0, 1] of the nameplate capacity.

The modules, by responsibility: `units` (the hour index), `load`, `battery`, `grid` (PLN hours),
`pv` (DC yield), `weather` (the clearness process), `balance` (the two engines), `designs`
(outcomes over simulated years), `sizing`, `autonomy`. Everything is re-exported here, so
`from linda.domain.energy import X` works for every public name.

The rules, in words, are in docs/energy.md; the tests in tests/domain/test_energy.py check them
by hand on small cases and by property.
"""

from __future__ import annotations

from linda.domain.energy.autonomy import AutonomyForecast, forecast_autonomy, night_end_h
from linda.domain.energy.balance import (
    DARK,
    GRID_ONLY,
    LIT,
    BatchRuns,
    Run,
    SiteConditions,
    simulate_batch,
    simulate_hours,
)
from linda.domain.energy.battery import CHEMISTRY, Battery, Chemistry, ChemistrySpec, battery_of
from linda.domain.energy.designs import (
    DEFAULT_PRICES,
    DesignOutcome,
    UnitPrices,
    evaluate_designs,
    evaluate_designs_across,
    hourly_outage_h,
)
from linda.domain.energy.grid import PowerProfile, grid_hours
from linda.domain.energy.load import EQUIPMENT_POWER_W, SiteLoad, equipment_load_w
from linda.domain.energy.pv import DEFAULT_PV, PvParams, dc_yield_wh_per_wp, pv_yield_wh_per_wp
from linda.domain.energy.sizing import (
    AUTONOMY_MULTIPLES,
    PV_STEP_WP,
    RuleOfThumb,
    Sizing,
    rule_of_thumb,
    size_site,
    size_sites,
)
from linda.domain.energy.units import (
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    HOURS_PER_YEAR,
    MONTH_OF_DAY,
    Bools,
    Floats,
)
from linda.domain.energy.weather import (
    ClearnessProcess,
    clear_sky_daily_wh_m2,
    clearness_scenarios,
    daily_clearness,
    latent_means,
)

__all__ = [
    "AUTONOMY_MULTIPLES", "CHEMISTRY", "DARK", "DAYS_PER_YEAR", "DEFAULT_PRICES", "DEFAULT_PV",
    "EQUIPMENT_POWER_W", "GRID_ONLY",
    "HOURS_PER_DAY", "HOURS_PER_YEAR", "LIT", "MONTH_OF_DAY", "PV_STEP_WP",
    "AutonomyForecast", "BatchRuns", "Battery", "Bools", "Chemistry", "ChemistrySpec",
    "ClearnessProcess", "DesignOutcome", "Floats", "PowerProfile", "PvParams", "RuleOfThumb",
    "Run", "SiteConditions", "SiteLoad", "Sizing", "UnitPrices",
    "battery_of", "clear_sky_daily_wh_m2", "clearness_scenarios", "daily_clearness",
    "dc_yield_wh_per_wp", "equipment_load_w", "evaluate_designs", "evaluate_designs_across",
    "forecast_autonomy", "grid_hours", "hourly_outage_h", "latent_means", "night_end_h",
    "pv_yield_wh_per_wp", "rule_of_thumb", "simulate_batch", "simulate_hours", "size_site",
    "size_sites",
]
