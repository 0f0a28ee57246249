"""PV + battery designs over the simulated years: outcomes and costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from linda.domain.energy.balance import SiteConditions, simulate_batch, simulate_hours
from linda.domain.energy.battery import Battery, Chemistry
from linda.domain.energy.units import DAYS_PER_YEAR, HOURS_PER_DAY, HOURS_PER_YEAR, Floats


@dataclass(frozen=True, slots=True)
class UnitPrices:
    """Installed cost per unit (panels with mounting and controller share; battery bank)."""

    pv_idr_per_wp: int = 10_000
    lfp_idr_per_wh: int = 5_000
    lead_acid_idr_per_wh: int = 2_500

    def cost_idr(self, pv_wp: int, battery_wh: int, chemistry: Chemistry) -> int:
        per_wh = self.lfp_idr_per_wh if chemistry is Chemistry.LFP else self.lead_acid_idr_per_wh
        return pv_wp * self.pv_idr_per_wp + battery_wh * per_wh


DEFAULT_PRICES = UnitPrices()


@dataclass(frozen=True, slots=True)
class DesignOutcome:
    """A PV + battery design over the simulated years (PVGIS off-grid figures and more)."""

    pv_wp: int
    battery_wh: int
    outage_h_by_year: tuple[float, ...]
    unserved_wh_per_year: float
    wasted_wh_per_year: float
    days_full_pct: float
    days_empty_pct: float
    cost_idr: int

    @property
    def outage_h_mean(self) -> float:
        return float(np.mean(self.outage_h_by_year))

    @property
    def outage_h_p90(self) -> float:
        """A bad year: nine years in ten have fewer outage hours."""
        return float(np.percentile(self.outage_h_by_year, 90))

    @property
    def outage_h_worst(self) -> float:
        return max(self.outage_h_by_year)

    @property
    def served_pct(self) -> float:
        return 100.0 * (1.0 - self.outage_h_mean / HOURS_PER_YEAR)

    @property
    def bad_year_availability(self) -> float:
        return 1.0 - self.outage_h_p90 / HOURS_PER_YEAR


def evaluate_designs(
    conditions: SiteConditions,
    designs: Sequence[tuple[int, int]],
    *,
    prices: UnitPrices = UnitPrices(),
    warmup_days: int = 14,
) -> list[DesignOutcome]:
    """Simulate (pv_wp, battery_wh) designs over every year of `conditions`, in one batch.

    Each year starts from the state its own last `warmup_days` left (begun full), so a year does
    not start with a free full battery in the middle of the wet season."""
    return evaluate_designs_across([conditions], designs, prices=prices,
                                   warmup_days=warmup_days)[0]


def _same_system(conditions: Sequence[SiteConditions]) -> SiteConditions:
    first = conditions[0]
    for c in conditions[1:]:
        if (c.load, c.grid_on, c.chemistry, c.charger_dc_w) != (
            first.load, first.grid_on, first.chemistry, first.charger_dc_w
        ):
            raise ValueError("conditions: must share load, PLN hours, chemistry and charger")
    return first


def evaluate_designs_across(
    conditions: Sequence[SiteConditions],
    designs: Sequence[tuple[int, int]],
    *,
    prices: UnitPrices = UnitPrices(),
    warmup_days: int = 14,
) -> list[list[DesignOutcome]]:
    """`evaluate_designs` for several sites that differ only in their weather (places of a
    fleet), in a single batch: one list of outcomes per site."""
    if not conditions:
        return []
    system = _same_system(conditions)
    if not designs:
        return [[] for _ in conditions]
    warm = warmup_days * HOURS_PER_DAY
    rows = [np.asarray(c.yields_wh_per_wp, dtype=np.float64) for c in conditions]
    stacked = np.concatenate(rows, axis=0)
    extended = np.concatenate([stacked[:, HOURS_PER_YEAR - warm:], stacked], axis=1)
    grid = np.tile(np.asarray(system.grid_on), DAYS_PER_YEAR + warmup_days)
    batch = simulate_batch(
        pv_wp=[d[0] for d in designs], capacity_wh=[d[1] for d in designs],
        spec=system.spec, load_w=system.load.bus_w, grid_on=grid,
        yields_wh_per_wp=extended, charger_dc_w=system.charger_dc_w, count_from_h=warm,
    )
    out: list[list[DesignOutcome]] = []
    offset = 0
    for r in rows:
        years = slice(offset, offset + r.shape[0])
        offset += r.shape[0]
        out.append([
            DesignOutcome(
                pv_wp=pv_wp,
                battery_wh=battery_wh,
                outage_h_by_year=tuple(float(x) for x in batch.outage_h[i, years]),
                unserved_wh_per_year=float(batch.unserved_wh[i, years].mean()),
                wasted_wh_per_year=float(batch.wasted_wh[i, years].mean()),
                days_full_pct=100.0 * float(batch.days_full[i, years].mean()) / DAYS_PER_YEAR,
                days_empty_pct=100.0 * float(batch.days_empty[i, years].mean()) / DAYS_PER_YEAR,
                cost_idr=prices.cost_idr(pv_wp, battery_wh, system.chemistry),
            )
            for i, (pv_wp, battery_wh) in enumerate(designs)
        ])
    return out


def hourly_outage_h(
    conditions: SiteConditions, *, pv_wp: int, battery_wh: int, warmup_days: int = 14
) -> Floats:
    """The outage of one design hour by hour (0-1 h lost in each hour), years x 8760.

    Each year starts as in `evaluate_designs` (from the state its own last `warmup_days` left,
    begun full), so a year's row sums to that design's `outage_h_by_year`. For the outage
    expected in part of a year (a month, the hours a site was monitored): sum the columns."""
    warm = warmup_days * HOURS_PER_DAY
    battery = Battery(battery_wh, conditions.spec)
    grid = list(conditions.grid_on) * (DAYS_PER_YEAR + warmup_days)
    yields = np.asarray(conditions.yields_wh_per_wp, dtype=np.float64)
    out = np.empty((yields.shape[0], HOURS_PER_YEAR))
    for year, row in enumerate(yields):
        pv = pv_wp * np.concatenate([row[HOURS_PER_YEAR - warm:], row])
        run = simulate_hours(
            pv_wh=pv.tolist(), grid_on=grid, battery=battery, load_w=conditions.load.bus_w,
            charger_dc_w=conditions.charger_dc_w, trace=True,
        )
        out[year] = run.outage_by_h[warm:]
    return out
