"""Sizing: the rule of thumb, and PV and battery sized by simulation with the trade-off curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from linda.domain.energy.balance import SiteConditions
from linda.domain.energy.battery import CHEMISTRY, Chemistry
from linda.domain.energy.designs import (
    DEFAULT_PRICES,
    DesignOutcome,
    UnitPrices,
    _same_system,
    evaluate_designs_across,
)
from linda.domain.energy.load import SiteLoad
from linda.domain.energy.pv import DEFAULT_PV, PvParams
from linda.domain.energy.units import HOURS_PER_DAY


def _round_up(value: float, step: int) -> int:
    return math.ceil(value / step - 1e-9) * step


@dataclass(frozen=True, slots=True)
class RuleOfThumb:
    """The textbook sizing: battery for N days without sun, PV for the worst month."""

    off_grid_wh_per_day: float  # drawn from the bus in the hours without PLN
    battery_wh: int
    pv_wp: int


def rule_of_thumb(
    *,
    load: SiteLoad,
    grid_on: Sequence[bool],
    chemistry: Chemistry,
    autonomy_days: float,
    worst_month_kwh_m2_day: float,
    pv: PvParams = DEFAULT_PV,
) -> RuleOfThumb:
    """battery = daily energy x autonomy / (usable fraction x discharge efficiency);
    PV = daily energy / (worst month's peak-sun hours x derate x hot-cell factor x round trip),
    with the hot-cell factor taken at 600 W/m^2. Rounded up to 100 Wh and 50 Wp."""
    spec = CHEMISTRY[chemistry]
    daily_wh = load.bus_w * (HOURS_PER_DAY - sum(grid_on))
    t_cell = pv.ambient_c + 600.0 * (pv.noct_c - 20.0) / 800.0
    hot = 1.0 + pv.temp_coeff_per_c * (t_cell - 25.0)
    round_trip = spec.charge_efficiency * spec.discharge_efficiency
    battery = daily_wh * autonomy_days / (spec.usable_fraction * spec.discharge_efficiency)
    pv_wp = daily_wh / (worst_month_kwh_m2_day * pv.system_derate * hot * round_trip)
    return RuleOfThumb(daily_wh, _round_up(battery, 100), _round_up(pv_wp, 50))


@dataclass(frozen=True, slots=True)
class Sizing:
    """What a site needs: the rule of thumb, the simulated design for the chosen autonomy, and
    the trade-off curve (for each battery, the least PV whose bad year meets the target)."""

    rule: RuleOfThumb
    autonomy_days: float
    target_availability: float
    recommended: DesignOutcome | None  # None: the target is out of reach of the PV range tried
    curve: tuple[DesignOutcome, ...]

    @property
    def cheapest(self) -> DesignOutcome | None:
        return min(self.curve, key=lambda o: o.cost_idr, default=None)


PV_STEP_WP = 50
AUTONOMY_MULTIPLES = (0.5, 1.0, 1.5, 2.0, 3.0)


def size_site(
    conditions: SiteConditions,
    *,
    autonomy_days: float = 1.5,
    target_availability: float = 0.995,
    worst_month_kwh_m2_day: float,
    prices: UnitPrices = DEFAULT_PRICES,
    pv: PvParams = DEFAULT_PV,
    max_pv_wp: int | None = None,
) -> Sizing:
    """Size PV and battery by simulation: the battery holds `autonomy_days` of the off-grid
    load, and the PV is the least multiple of 50 Wp whose bad (90th percentile) year keeps
    availability at or above `target_availability`. The same search for batteries of
    0.5-3 x one day's autonomy gives the trade-off curve, with costs."""
    (sizing,) = size_sites(
        [conditions], autonomy_days=autonomy_days, target_availability=target_availability,
        worst_month_kwh_m2_day=worst_month_kwh_m2_day, prices=prices, pv=pv,
        max_pv_wp=max_pv_wp,
    )
    return sizing


def size_sites(
    conditions: Sequence[SiteConditions],
    *,
    autonomy_days: float = 1.5,
    target_availability: float = 0.995,
    worst_month_kwh_m2_day: float,
    prices: UnitPrices = DEFAULT_PRICES,
    pv: PvParams = DEFAULT_PV,
    max_pv_wp: int | None = None,
) -> list[Sizing]:
    """`size_site` for sites that differ only in their weather, simulated together."""
    if not 0 < target_availability <= 1:
        raise ValueError("target_availability: must be in (0, 1]")
    if not conditions:
        return []
    system = _same_system(conditions)

    def rule_for(days: float) -> RuleOfThumb:
        return rule_of_thumb(
            load=system.load, grid_on=system.grid_on, chemistry=system.chemistry,
            autonomy_days=days, worst_month_kwh_m2_day=worst_month_kwh_m2_day, pv=pv,
        )

    rule = rule_for(autonomy_days)
    if rule.off_grid_wh_per_day == 0:
        nothing = evaluate_designs_across(conditions, [(0, 0)], prices=prices)
        return [Sizing(rule, autonomy_days, target_availability, o[0], (o[0],)) for o in nothing]
    one_day = rule_for(1.0)
    batteries = sorted({rule.battery_wh} | {
        _round_up(one_day.battery_wh * m, 100) for m in AUTONOMY_MULTIPLES
    })
    top = max_pv_wp or max(3 * rule.pv_wp, 1000)
    least: list[dict[int, DesignOutcome]] = [{} for _ in conditions]

    def keep_least_passing(designs: list[tuple[int, int]]) -> None:
        designs = sorted(set(designs))  # PV ascending within each battery
        for found, outcomes in zip(least, evaluate_designs_across(
            conditions, designs, prices=prices), strict=True):
            for o in outcomes:
                if o.bad_year_availability < target_availability:
                    continue
                best = found.get(o.battery_wh)
                if best is None or o.pv_wp < best.pv_wp:
                    found[o.battery_wh] = o

    # Coarse pass in steps of 4 x 50 Wp, then the three 50 Wp steps below each first pass.
    coarse = 4 * PV_STEP_WP
    keep_least_passing([(p, b) for b in batteries for p in range(0, top + coarse, coarse)])
    keep_least_passing([
        (p, b) for found in least for b, o in found.items()
        for p in range(max(o.pv_wp - coarse + PV_STEP_WP, 0), o.pv_wp, PV_STEP_WP)
    ])
    return [
        Sizing(rule, autonomy_days, target_availability, found.get(rule.battery_wh),
               tuple(found[b] for b in batteries if b in found))
        for found in least
    ]
