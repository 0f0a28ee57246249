"""The hourly energy balance: a scalar engine (`simulate_hours`) and a vectorised one
(`simulate_batch`) that do the same arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from linda.domain.energy.battery import CHEMISTRY, Battery, Chemistry, ChemistrySpec
from linda.domain.energy.load import SiteLoad
from linda.domain.energy.units import HOURS_PER_DAY, HOURS_PER_YEAR, Bools, Floats

#
# Each hour, with PV energy `pv` (DC, Wh) and the load's draw `load` from the battery bus:
# * PLN on: PV serves the load first, PLN the rest; the battery charges from the PV surplus
#   and the PLN charger. The charger holds the bus voltage up, so the LVD closes.
# * PLN off, load connected: PV serves the load first. A surplus charges the battery; a deficit
#   is drawn from it (deficit / discharge efficiency). If the battery reaches its LVD floor
#   within the hour, the load runs for the fraction f of the hour the charge lasted, the LVD
#   opens, and the PV of the rest of the hour charges the battery.
# * PLN off, load disconnected: all PV charges the battery; the hour is lost.
# * Charging stores `accepted * charge efficiency`, where accepted is limited by the energy
#   offered, the charge rate limit and the room left below capacity; the rest is wasted.
# * At the end of the hour a disconnected load reconnects when the charge is back at the
#   reconnect level (hysteresis).


@dataclass(frozen=True, slots=True)
class SiteConditions:
    """Everything about a site but its PV and battery sizes: the load, PLN hours, chemistry,
    and the DC yield of 1 Wp for each simulated year (years x 8760, from `pv_yield_wh_per_wp`)."""

    load: SiteLoad
    grid_on: tuple[bool, ...]
    chemistry: Chemistry
    yields_wh_per_wp: Floats = field(compare=False, repr=False)
    grid_charger_w: float = 300.0
    grid_charger_efficiency: float = 0.90

    def __post_init__(self) -> None:
        if len(self.grid_on) != HOURS_PER_DAY:
            raise ValueError("grid_on: needs 24 hourly flags")
        shape = np.shape(self.yields_wh_per_wp)
        if len(shape) != 2 or shape[1] != HOURS_PER_YEAR:
            raise ValueError("yields_wh_per_wp: must be years x 8760")

    @property
    def spec(self) -> ChemistrySpec:
        return CHEMISTRY[self.chemistry]

    @property
    def years(self) -> int:
        return int(np.shape(self.yields_wh_per_wp)[0])

    @property
    def off_grid_hours_per_day(self) -> int:
        return HOURS_PER_DAY - sum(self.grid_on)

    @property
    def charger_dc_w(self) -> float:
        return self.grid_charger_w * self.grid_charger_efficiency



@dataclass(frozen=True, slots=True)
class Run:
    """One simulated stretch of hours for one design. `soc_wh` (end of each hour) on request."""

    hours: int
    outage_h: float
    unserved_wh: float
    wasted_wh: float
    days_full: int
    days_empty: int
    soc_end_wh: float
    connected_end: bool
    first_lvd_h: float | None  # hours from the start until the LVD first opened
    soc_wh: tuple[float, ...] = field(default=(), compare=False, repr=False)
    outage_by_h: tuple[float, ...] = field(default=(), compare=False, repr=False)

    @property
    def served_fraction(self) -> float:
        return 1.0 - self.outage_h / self.hours if self.hours else 1.0


LIT, DARK, GRID_ONLY = 0, 1, 2  # kinds of hour: PV; neither PV nor PLN; PLN but no PV


def _kinds(lit: Sequence[bool] | Bools, grid: Sequence[bool] | Bools) -> list[int]:
    lit_a = np.asarray(lit, dtype=bool)
    grid_a = np.asarray(grid, dtype=bool)
    kinds: list[int] = np.where(lit_a, LIT, np.where(grid_a, GRID_ONLY, DARK)).tolist()
    return kinds


def _runs(kinds: Sequence[int]) -> list[tuple[int, int]]:
    """Split hours into runs [start, end): consecutive DARK hours of the same day form one run,
    and so do GRID_ONLY hours, each handled in closed form; a LIT hour is a run of its own."""
    k = np.asarray(kinds)
    n = k.shape[0]
    if n == 0:
        return []
    new = np.ones(n, dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (k[1:] == LIT)
    new[::HOURS_PER_DAY] = True
    starts: list[int] = np.flatnonzero(new).tolist()
    return list(zip(starts, [*starts[1:], n], strict=True))


def simulate_hours(
    *,
    pv_wh: Sequence[float],
    grid_on: Sequence[bool],
    battery: Battery,
    load_w: float,
    charger_dc_w: float = 0.0,
    soc_fraction: float = 1.0,
    connected: bool | None = None,
    trace: bool = False,
) -> Run:
    """The energy balance for one design, in plain Python floats (fast for a single year).

    `pv_wh` is the DC energy of each hour, `grid_on` whether PLN supplies it, `load_w` the draw
    from the battery bus, `charger_dc_w` what the PLN charger can put into the battery per hour.
    Hour 0 starts a day. The load starts connected unless the charge is below the LVD floor
    (or `connected` says otherwise)."""
    if len(pv_wh) != len(grid_on):
        raise ValueError("pv_wh and grid_on: need the same length")
    if not 0 <= soc_fraction <= 1:
        raise ValueError("soc_fraction: must be in [0, 1]")
    spec = battery.spec
    cap, floor, reconnect = battery.capacity_wh, battery.floor_wh, battery.reconnect_wh
    ec, ed, load = spec.charge_efficiency, spec.discharge_efficiency, load_w
    limit, full = cap * spec.max_charge_c, cap * 0.999
    soc = cap * soc_fraction
    conn = soc >= floor if connected is None else connected
    outage = unserved = wasted = 0.0
    days_full = days_empty = 0
    full_today = empty_today = False
    first_lvd: float | None = None
    socs: list[float] = []
    losses: list[float] = []
    kinds = _kinds(np.asarray(pv_wh, dtype=np.float64) != 0.0, grid_on)
    grid_rate = min(charger_dc_w, limit) * ec  # what the charger stores an hour
    for start, end in _runs(kinds):
        if kinds[start] == GRID_ONLY:
            k = end - start
            before = soc
            soc = soc + k * grid_rate
            soc = soc if soc < cap else cap
            conn = True
            if soc >= full:
                full_today = True
            if trace:
                socs.extend(min(before + i * grid_rate, cap) for i in range(1, k))
                socs.append(soc)
                losses.extend([0.0] * k)
        elif kinds[start] == DARK:
            k = end - start
            before = soc
            if conn:
                need = k * load / ed
                avail = soc - floor if soc > floor else 0.0
                if need > avail:
                    served = avail / (load / ed)
                    lost = k - served
                    soc = soc if soc < floor else floor
                    outage += lost
                    unserved += load * lost
                    empty_today = True
                    if first_lvd is None:
                        first_lvd = start + served
                    conn = soc >= reconnect
                    if trace:
                        losses.extend(min(max(i + 1 - served, 0.0), 1.0) for i in range(k))
                else:
                    soc = soc - need
                    if trace:
                        losses.extend([0.0] * k)
                if trace:
                    socs.extend(max(before - i * load / ed, floor) for i in range(1, k))
            else:
                outage += k
                unserved += load * k
                if trace:
                    socs.extend([soc] * (k - 1))
                    losses.extend([1.0] * k)
            if trace:
                socs.append(soc)
        else:
            pv = pv_wh[start]
            if grid_on[start]:
                surplus = pv - (pv if pv < load else load)
                accepted = min(surplus + charger_dc_w, limit, (cap - soc) / ec)
                soc = soc + accepted * ec
                if surplus > accepted:
                    wasted += surplus - accepted
                conn = True
            else:
                deficit = load - pv
                if conn:
                    need = deficit / ed
                    avail = soc - floor if soc > floor else 0.0
                    if need > avail:
                        f = avail / need
                        soc1 = soc if soc < floor else floor
                        offered = pv * (1.0 - f)
                        span = 1.0 - f
                        empty_today = True
                        if first_lvd is None:
                            first_lvd = start + f
                    else:
                        f = 1.0
                        soc1 = soc - (need if need > 0.0 else 0.0)
                        offered = -deficit if deficit < 0.0 else 0.0
                        span = 1.0
                else:
                    f, soc1, offered, span = 0.0, soc, pv, 1.0
                accepted = min(offered, limit * span, (cap - soc1) / ec)
                soc = soc1 + accepted * ec
                wasted += offered - accepted
                if f < 1.0:
                    outage += 1.0 - f
                    unserved += load * (1.0 - f)
                    conn = soc >= reconnect
            if soc >= full:
                full_today = True
            if trace:
                socs.append(soc)
                losses.append(0.0 if grid_on[start] else 1.0 - f)
        if end % HOURS_PER_DAY == 0:
            days_full += full_today
            days_empty += empty_today
            full_today = empty_today = False
    return Run(
        hours=len(pv_wh), outage_h=outage, unserved_wh=unserved, wasted_wh=wasted,
        days_full=days_full, days_empty=days_empty, soc_end_wh=soc, connected_end=conn,
        first_lvd_h=first_lvd, soc_wh=tuple(socs), outage_by_h=tuple(losses),
    )


@dataclass(frozen=True, slots=True, eq=False)
class BatchRuns:
    """`Run` totals for designs x scenarios, as arrays (the vectorised engine's output)."""

    outage_h: Floats
    unserved_wh: Floats
    wasted_wh: Floats
    days_full: Floats
    days_empty: Floats
    soc_end_wh: Floats
    first_lvd_h: Floats  # NaN where the LVD never opened


def simulate_batch(
    *,
    pv_wp: Sequence[float] | Floats,
    capacity_wh: Sequence[float] | Floats,
    spec: ChemistrySpec,
    load_w: float,
    grid_on: Sequence[bool] | Bools,
    yields_wh_per_wp: Floats,
    charger_dc_w: float = 0.0,
    soc_fraction: float = 1.0,
    connected: bool | None = None,
    count_from_h: int = 0,
) -> BatchRuns:
    """The energy balance of `simulate_hours`, for D designs x S yield scenarios at once.

    `pv_wp` and `capacity_wh` give the D designs; `yields_wh_per_wp` is S x T (a row per
    scenario: a year, a weather sample) and `grid_on` has T flags. Totals count the hours from
    `count_from_h` (a whole number of days) on; the hours before are a warm-up. Both engines
    do the same arithmetic in the same order, so they agree to the last bit or nearly."""
    pv_col = np.asarray(pv_wp, dtype=np.float64)[:, None]
    cap = np.asarray(capacity_wh, dtype=np.float64)[:, None]
    if pv_col.shape != cap.shape:
        raise ValueError("pv_wp and capacity_wh: need one value per design")
    if count_from_h % HOURS_PER_DAY:
        raise ValueError("count_from_h: must be a whole number of days")
    yields_t = np.ascontiguousarray(np.asarray(yields_wh_per_wp, dtype=np.float64).T)
    grid = [bool(g) for g in grid_on]
    if len(grid) != yields_t.shape[0]:
        raise ValueError("grid_on: needs one flag per hour of the yields")
    shape = (cap.shape[0], yields_t.shape[1])
    ec, ed, load = spec.charge_efficiency, spec.discharge_efficiency, load_w
    floor, reconnect = cap * spec.disconnect_soc, cap * spec.reconnect_soc
    limit, full = cap * spec.max_charge_c, cap * 0.999
    soc: Floats = np.broadcast_to(cap * soc_fraction, shape).copy()
    conn: Bools = np.broadcast_to(soc >= floor if connected is None else connected, shape).copy()
    outage, unserved, wasted = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    days_full, days_empty = np.zeros(shape), np.zeros(shape)
    first_lvd = np.full(shape, np.nan)
    full_today = np.zeros(shape, dtype=bool)
    empty_today = np.zeros(shape, dtype=bool)
    lit: list[bool] = np.any(yields_t, axis=1).tolist()
    kinds = _kinds(lit, grid)
    grid_rate = np.minimum(charger_dc_w, limit) * ec
    for start, end in _runs(kinds):
        counting = start >= count_from_h
        if kinds[start] == GRID_ONLY:
            soc = np.minimum(soc + (end - start) * grid_rate, cap)
            conn[...] = True
            if counting:
                full_today |= soc >= full
        elif kinds[start] == DARK:
            k = end - start
            need_k = k * load / ed
            avail = np.maximum(soc - floor, 0.0)
            short = conn & (need_k > avail)
            if short.any():
                served = np.where(short, avail / (load / ed), k)
                lost = np.where(conn, np.where(short, k - served, 0.0), k)
                soc = np.where(short, np.minimum(soc, floor), np.where(conn, soc - need_k, soc))
                if counting:
                    first_lvd = np.where(
                        short & np.isnan(first_lvd), start - count_from_h + served, first_lvd
                    )
                    empty_today |= short
                conn = np.where(short, soc >= reconnect, conn)
            else:
                soc = np.where(conn, soc - need_k, soc)
                lost = np.where(conn, 0.0, float(k))
            if counting:
                outage += lost
                unserved += load * lost
        else:
            pv = pv_col * yields_t[start]
            if grid[start]:
                surplus = pv - np.minimum(pv, load)
                accepted = np.minimum(np.minimum(surplus + charger_dc_w, limit), (cap - soc) / ec)
                soc = soc + accepted * ec
                if counting:
                    wasted += np.maximum(surplus - accepted, 0.0)
                conn[...] = True
            else:
                deficit = load - pv
                need = deficit / ed
                avail = np.maximum(soc - floor, 0.0)
                short = conn & (need > avail)
                if conn.all() and not short.any():
                    soc1 = soc - np.maximum(need, 0.0)
                    offered = np.maximum(-deficit, 0.0)
                    accepted = np.minimum(np.minimum(offered, limit), (cap - soc1) / ec)
                    soc = soc1 + accepted * ec
                    if counting:
                        wasted += offered - accepted
                else:
                    f = np.where(short, avail / np.where(short, need, 1.0), conn * 1.0)
                    soc1 = np.where(
                        short, np.minimum(soc, floor),
                        np.where(conn, soc - np.maximum(need, 0.0), soc),
                    )
                    offered = np.where(
                        conn, np.where(short, pv * (1.0 - f), np.maximum(-deficit, 0.0)), pv
                    )
                    span = np.where(short, 1.0 - f, 1.0)
                    accepted = np.minimum(np.minimum(offered, limit * span), (cap - soc1) / ec)
                    soc = soc1 + accepted * ec
                    lost = 1.0 - f
                    if counting:
                        wasted += offered - accepted
                        outage += lost
                        unserved += load * lost
                        empty_today |= short
                        first_lvd = np.where(
                            short & np.isnan(first_lvd), start - count_from_h + f, first_lvd
                        )
                    conn = np.where(lost > 0.0, soc >= reconnect, conn)
            if counting:
                full_today |= soc >= full
        if counting and end % HOURS_PER_DAY == 0:
            days_full += full_today
            days_empty += empty_today
            full_today[...] = False
            empty_today[...] = False
    return BatchRuns(
        outage_h=outage, unserved_wh=unserved, wasted_wh=wasted, days_full=days_full,
        days_empty=days_empty, soc_end_wh=soc, first_lvd_h=first_lvd,
    )
